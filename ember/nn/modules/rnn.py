"""Recurrent layers: RNN, LSTM (with proj_size), GRU and their Cell versions.

Each direction of each layer is one fused op over the whole sequence (NOTE [ Fused recurrent
layers ] in ember/nn/_functional_seq.py); the input projection for all time steps is one
matrix product. Parameter names, shapes and initialisation are PyTorch's
(``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l1``, ``weight_hr_l0``, ...).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

import ember
from ember._ops import pool as _pool
from ember._tensor import Tensor
from ember.nn import _functional_seq as FS
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """The base class of ``RNN``, ``LSTM`` and ``GRU``: their parameters, argument checks and
    layer loop, chosen by ``mode``.

    Users build the subclasses; ``RNNBase`` is public because code checks
    ``isinstance(m, nn.RNNBase)`` (to find recurrent layers, or call ``flatten_parameters``).

    Args:
        mode: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
        input_size: features of each input step.
        hidden_size: features of the hidden state.
        num_layers: stacked layers (default 1).
        bias: learn the biases ``b_ih`` and ``b_hh`` (default True).
        batch_first: inputs and outputs are ``(N, L, H)`` instead of ``(L, N, H)``.
        dropout: dropout between layers, except after the last (default 0).
        bidirectional: run each layer in both directions (default False).
        proj_size: LSTM only, project the hidden state to this size (default 0: none).
        device: the parameters' device.
        dtype: the parameters' dtype.

    Example:
        >>> lstm = nn.LSTM(4, 8)
        >>> isinstance(lstm, nn.RNNBase)
        True
        >>> nn.RNNBase("LSTM", 4, 8).weight_ih_l0.shape   # 4 gates x hidden_size rows
        torch.Size([32, 4])
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,  # noqa: ARG002 - applied by the Module constructor wrapper (NOTE [ Layer devices ])
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_h = proj_size if proj_size > 0 else hidden_size
        dt = dtype if dtype is not None else ember.get_default_dtype()
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(dirs):
                in_sz = input_size if layer == 0 else real_h * dirs
                sfx = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate, in_sz)), ("weight_hh", (gate, real_h))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{sfx}"
                    setattr(self, name, Parameter(ember.empty(*shape, dtype=dt)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """No-op (cuDNN weight packing has no CPU counterpart); kept for compatibility."""

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ forward
    def _name(self):
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _check_hidden(self, hx, expected, what="hidden"):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(f"{self._name()}: Expected {what} size {tuple(expected)}, got "
                               f"{list(hx.shape)}")

    def forward(self, input, hx=None):
        is_lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        real_h = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            data, bsz_t = input.data, input.batch_sizes
            bs = [int(v) for v in bsz_t._data]
            batch = bs[0]
            t_len = len(bs)
            lens = (np.asarray(bs)[None, :] > np.arange(batch)[:, None]).sum(1)
            src = np.full(t_len * batch, data.shape[0], np.int64)
            off = 0
            for t, b in enumerate(bs):
                src[t * batch:t * batch + b] = np.arange(off, off + b)
                off += b
            zero = ember.zeros(1, *data.shape[1:], dtype=data.dtype, device=data.device)
            x = _pool.take_axis(ember.cat([data, zero]), src, 0).reshape(t_len, batch, -1)
            batch_sizes = bs if bs[-1] != batch else None
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{self._name()}: input must be a Tensor or PackedSequence, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got "
                                 f"{input.ndim}D instead")
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else (
                input.transpose(0, 1) if self.batch_first else input)
            t_len, batch = x.shape[:2]
            batch_sizes = None
            lens = None
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{self._name()}: input.size(-1) must be equal to input_size. "
                               f"Expected {self.input_size}, got {x.shape[-1]} (input of shape "
                               f"{list(input.data.shape if packed else input.shape)})")
        w0 = self.weight_ih_l0
        if x.dtype != w0.dtype:
            raise RuntimeError(f"{self._name()}: input must have the type {w0.dtype}, got type "
                               f"{x.dtype}")
        h_shape = (self.num_layers * dirs, batch, real_h)
        c_shape = (self.num_layers * dirs, batch, self.hidden_size)
        if hx is None:
            h0 = ember.zeros(*h_shape, dtype=x.dtype, device=x.device)
            c0 = ember.zeros(*c_shape, dtype=x.dtype, device=x.device) if is_lstm else None
        else:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            if unbatched:
                for t_ in (h0, c0):
                    if t_ is not None and t_.ndim != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but"
                                           f" got {t_.ndim}-D tensor")
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            elif h0.ndim != 3 or (c0 is not None and c0.ndim != 3):
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{h0.ndim}-D tensor")
            if packed and input.sorted_indices is not None:
                order = input.sorted_indices._data
                h0 = _pool.take_axis(h0, order, 1)
                c0 = _pool.take_axis(c0, order, 1) if c0 is not None else None
            self._check_hidden(h0, h_shape)
            if c0 is not None:
                self._check_hidden(c0, c_shape, "cell")
        rev_idx = None
        if self.bidirectional and batch_sizes is not None:
            # per-sequence time reversal of the padded (T*B) layout (an involution)
            t_ = np.arange(t_len)[:, None]
            ln = lens[None, :]
            rt = np.where(t_ < ln, ln - 1 - t_, t_)
            rev_idx = (rt * batch + np.arange(batch)[None, :]).reshape(-1)
        hs_n, cs_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                names = self._all_weights[k]
                w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
                b_ih = getattr(self, names[2]) if self.bias else None
                b_hh = getattr(self, names[3]) if self.bias else None
                w_hr = getattr(self, names[-1]) if self.proj_size > 0 else None
                inp = layer_in
                if d == 1:
                    inp = inp.flip(0) if rev_idx is None else _pool.take_axis(
                        inp.reshape(t_len * batch, -1), rev_idx, 0).reshape(t_len, batch, -1)
                xproj = ember.matmul(inp, w_ih.t())
                if self.bias:
                    xproj = xproj + (b_ih if self.mode == "GRU" else b_ih + b_hh)
                if is_lstm:
                    out, hn, cn = FS.lstm_layer(xproj, h0[k], c0[k], w_hh, w_hr, batch_sizes)
                    cs_n.append(cn)
                elif self.mode == "GRU":
                    out, hn = FS.gru_layer(xproj, h0[k], w_hh, b_hh, batch_sizes)
                else:
                    out, hn = FS.rnn_layer(xproj, h0[k], w_hh,
                                           "relu" if self.mode == "RNN_RELU" else "tanh",
                                           batch_sizes)
                if d == 1:
                    out = out.flip(0) if rev_idx is None else _pool.take_axis(
                        out.reshape(t_len * batch, -1), rev_idx, 0).reshape(t_len, batch, -1)
                outs.append(out)
                hs_n.append(hn)
            layer_in = outs[0] if dirs == 1 else ember.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = FS._dropout(layer_in, self.dropout)
        output = layer_in
        h_n = ember.stack(hs_n)
        c_n = ember.stack(cs_n) if is_lstm else None
        if packed:
            rows = np.concatenate([t * batch + np.arange(b) for t, b in enumerate(bs)])
            out_data = _pool.take_axis(output.reshape(t_len * batch, -1), rows, 0)
            output = PackedSequence(out_data, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            if input.unsorted_indices is not None:
                order = input.unsorted_indices._data
                h_n = _pool.take_axis(h_n, order, 1)
                c_n = _pool.take_axis(c_n, order, 1) if c_n is not None else None
        elif unbatched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_n, c_n) if is_lstm else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args:
        input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
        batch_first=False, dropout=0.0, bidirectional=False.

    Shape:
        - Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or ``(L, H_in)``
          unbatched (or a ``PackedSequence``).
        - h_0: ``(D * num_layers, N, H_out)`` (zeros when not given); D is 2 when
          bidirectional.
        - Output: ``(L, N, D * H_out)`` (batch first with ``batch_first``) and the final
          hidden state(s) shaped as h_0.

    Example:
        >>> out, h = nn.RNN(10, 20, 2)(ember.randn(5, 3, 10))
        >>> out.shape, h.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gate order i, f, g, o), optionally with projections.

    Args:
        input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False, proj_size=0.

    Returns ``output, (h_n, c_n)``.

    Shape:
        - Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or ``(L, H_in)``
          unbatched (or a ``PackedSequence``).
        - h_0, c_0: ``(D * num_layers, N, H_out)`` (h: ``proj_size`` instead of H_out when
          set); zeros when not given.
        - Output: ``(L, N, D * H_out)`` and ``(h_n, c_n)`` shaped as ``(h_0, c_0)``.

    Example:
        >>> out, (h, c) = nn.LSTM(10, 20, batch_first=True)(ember.randn(3, 5, 10))
        >>> out.shape
        torch.Size([3, 5, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (gate order r, z, n; PyTorch's formulation of n).

    Args:
        input_size: the number of features of each input element.
        hidden_size: the number of features of the hidden state.
        num_layers: stacked recurrent layers (default 1).
        bias: learn the bias terms (default True).
        batch_first: input and output are ``(N, L, H)`` instead of ``(L, N, H)``.
        dropout: dropout between stacked layers (default 0).
        bidirectional: run a second layer backwards over the sequence (default False).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or ``(L, H_in)``
          unbatched (or a ``PackedSequence``).
        - h_0: ``(D * num_layers, N, H_out)`` (zeros when not given); D is 2 when
          bidirectional.
        - Output: ``(L, N, D * H_out)`` (batch first with ``batch_first``) and the final
          hidden state(s) shaped as h_0.

    Example:
        >>> out, h = nn.GRU(10, 20)(ember.randn(5, 3, 10))
        >>> h.shape
        torch.Size([1, 3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# --------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """The base class of ``RNNCell``, ``LSTMCell`` and ``GRUCell``: their parameters
    ``weight_ih`` ``(num_chunks * hidden_size, input_size)``, ``weight_hh``
    ``(num_chunks * hidden_size, hidden_size)`` and the biases ``bias_ih``, ``bias_hh``.

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn the biases.
        num_chunks: gates stacked in the weights (LSTM 4, GRU 3, RNN 1).
        device: the parameters' device.
        dtype: the parameters' dtype.

    Example:
        >>> isinstance(nn.GRUCell(4, 8), nn.RNNCellBase)
        True
        >>> nn.RNNCellBase(4, 8, True, 4).weight_hh.shape
        torch.Size([32, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:  # noqa: ARG002 - applied by the Module constructor wrapper (NOTE [ Layer devices ])
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = dtype if dtype is not None else ember.get_default_dtype()
        self.weight_ih = Parameter(ember.empty(num_chunks * hidden_size, input_size, dtype=dt))
        self.weight_hh = Parameter(ember.empty(num_chunks * hidden_size, hidden_size,
                                               dtype=dt))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, dtype=dt))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _prep(self, input, name):
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        unb = input.ndim == 1
        x = input.unsqueeze(0) if unb else input
        return x, unb

    def _state(self, hx, x, unb, name):
        if hx is None:
            return ember.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        h = hx.unsqueeze(0) if unb else hx
        if tuple(h.shape) != (x.shape[0], self.hidden_size):
            want = [x.shape[0], self.hidden_size] if not unb else [self.hidden_size]
            raise RuntimeError(f"{name}: hidden state has shape {list(hx.shape)}, expected "
                               f"{want}")
        return h

    def _proj(self, x, both_biases):
        xp = ember.matmul(x, self.weight_ih.t())
        if self.bias:
            xp = xp + (self.bias_ih + self.bias_hh if both_biases else self.bias_ih)
        return xp.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input_size: the number of features of each input element.
        hidden_size: the number of features of the hidden state.
        bias: learn the bias terms (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``.
        - Hidden: ``(N, H_out)`` (zeros when not given).
        - Output: the next hidden state ``(N, H_out)`` (LSTMCell: ``(h, c)``).

    Example:
        >>> nn.RNNCell(10, 20)(ember.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unb = self._prep(input, "RNNCell")
        h = self._state(hx, x, unb, "RNNCell")
        _, hn = FS.rnn_layer(self._proj(x, True), h, self.weight_hh, self.nonlinearity)
        return hn.squeeze(0) if unb else hn


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``.

    Args:
        input_size: the number of features of each input element.
        hidden_size: the number of features of the hidden state.
        bias: learn the bias terms (default True).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``.
        - Hidden: ``(N, H_out)`` (zeros when not given).
        - Output: the next hidden state ``(N, H_out)`` (LSTMCell: ``(h, c)``).

    Example:
        >>> h, c = nn.LSTMCell(10, 20)(ember.randn(3, 10))
        >>> c.shape
        torch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        x, unb = self._prep(input, "LSTMCell")
        if hx is None:
            h = c = ember.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        else:
            h = self._state(hx[0], x, unb, "LSTMCell")
            c = self._state(hx[1], x, unb, "LSTMCell")
        _, hn, cn = FS.lstm_layer(self._proj(x, True), h, c, self.weight_hh)
        return (hn.squeeze(0), cn.squeeze(0)) if unb else (hn, cn)


class GRUCell(RNNCellBase):
    """One GRU step.

    Args:
        input_size: the number of features of each input element.
        hidden_size: the number of features of the hidden state.
        bias: learn the bias terms (default True).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``.
        - Hidden: ``(N, H_out)`` (zeros when not given).
        - Output: the next hidden state ``(N, H_out)`` (LSTMCell: ``(h, c)``).

    Example:
        >>> nn.GRUCell(10, 20)(ember.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unb = self._prep(input, "GRUCell")
        h = self._state(hx, x, unb, "GRUCell")
        _, hn = FS.gru_layer(self._proj(x, False), h, self.weight_hh, self.bias_hh)
        return hn.squeeze(0) if unb else hn
