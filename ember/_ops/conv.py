"""Convolution ops: N-d convolution, transposed convolution and the weight gradient, all through
im2col / col2im and one (batched over groups) BLAS matrix product.

NOTE [ Convolution as three ops ]
Three OpDefs cover convolution and its derivatives, each the others' backward:

* ``convolution(x, w[, b])``             y = conv(x, w) (+ b)
* ``convolution_transpose(x, w[, b])``   y = conv^T(x, w) (+ b), the adjoint in x
* ``convolution_weight(x, g)``           dL/dw of conv(x, w) given g = dL/dy

d conv / dx is ``convolution_transpose(g, w)``; d conv / dw is ``convolution_weight(x, g)``;
d conv^T / dx is ``convolution(g, w)``; d conv^T / dw is ``convolution_weight(g, x)`` (the
transposed convolution's input plays the role of the convolution's output gradient); and
``convolution_weight`` is bilinear in (x, g), so its own derivatives are a transposed
convolution and a convolution again. Double backward therefore works everywhere.

Layout (measured on this kind of machine: the fastest of window-view tensordot, per-sample
GEMM and a single GEMM): the padded input is copied by a loop over *kernel offsets* (a handful
of strided slice copies, never a loop over pixels) into ``cols`` of shape
``(C, *kernel, N, *out)``, so that ``W (G, O/G, C/G*K) @ cols (G, C/G*K, N*P)`` is one GEMM
per group; the result ``(O, N, *out)`` is transposed back to NCHW in one copy. col2im is the
same loop with ``+=`` (a scatter-add without ``np.add.at``).

Channels-last variant: when the spatial rows are short and channels many (the deep layers of
a CNN: 8x8 or smaller maps, 64+ channels), the strided copies above loop over rows of a few
elements and dominate. There the same three ops run in ``(N, *S, C)`` layout instead: the
copies move contiguous channel vectors, ``cols`` is ``(N, *out, C, *kernel)`` (contraction
order ``C, *kernel`` matches the weight's own layout, so the weight is never copied) and the
GEMMs are ``cols @ W^T``, ``g @ W`` and ``g^T @ cols``. Measured on 32x64x8x8: im2col 0.63 ->
0.16 ms, col2im 1.58 -> 0.51 ms; ``_channels_last`` picks the layout (groups == 1 only).

A convolution's padding is stored as two tuples (``lo``, ``hi``) so that ``padding='same'``
with an even kernel (extra padding on the right, as in PyTorch) and the cropping needed in
transposed-convolution backward (negative ``hi``) use one code path.
"""

from __future__ import annotations

import itertools
import math
import os

import numpy as np

from ember._backends import xp_of
from ember._codegen import blas, conv_kernels
from ember._ops.core import FUNCTIONS, OpDef, apply
from ember._tensor import Tensor

xp = np


# --------------------------------------------------------------------------- array kernels
def _pad_t(x, lo, hi):
    """``x`` (N, C, *S) -> padded array transposed to (C, N, *S'); negative pads crop."""
    xp = xp_of(x)  # this device's array module
    nd = len(lo)
    crop = tuple(slice(max(-a, 0), s - max(-b, 0)) for a, b, s in zip(lo, hi, x.shape[2:]))
    x = x[(slice(None), slice(None)) + crop]
    xt = x.transpose(1, 0, *range(2, 2 + nd))
    if all(a <= 0 for a in lo) and all(b <= 0 for b in hi):
        return xt
    shape = xt.shape[:2] + tuple(s + max(a, 0) + max(b, 0) for s, a, b in zip(xt.shape[2:], lo,
                                                                              hi))
    buf = xp.zeros(shape, x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(max(a, 0), max(a, 0) + s)
                                           for a, s in zip(lo, xt.shape[2:]))] = xt
    return buf


def _out_size(length, k, s, d):
    return (length - d * (k - 1) - 1) // s + 1


def _im2col(xt, ks, s, d, out):
    """(C, N, *S) padded -> cols (C, *ks, N, *out) by one strided copy per kernel offset."""
    xp = xp_of(xt)  # this device's array module
    c, n = xt.shape[:2]
    cols = xp.empty((c, *ks, n, *out), xt.dtype)
    for kidx in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(ki * di, ki * di + si * (oi - 1) + 1, si)
                   for ki, di, si, oi in zip(kidx, d, s, out))
        cols[(slice(None),) + kidx] = xt[(slice(None), slice(None)) + sl]
    return cols


def _col2im(cols, ks, s, d, inp, full):
    """cols (C, *ks, N, *inp) -> (C, N, *full), summing overlapping windows."""
    xp = xp_of(cols)  # this device's array module
    c = cols.shape[0]
    n = cols.shape[1 + len(ks)]
    buf = xp.zeros((c, n, *full), cols.dtype)
    for kidx in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(ki * di, ki * di + si * (ii - 1) + 1, si)
                   for ki, di, si, ii in zip(kidx, d, s, inp))
        buf[(slice(None), slice(None)) + sl] += cols[(slice(None),) + kidx]
    return buf


def _to_nc(a):
    """(C, N, *S) -> contiguous (N, C, *S)."""
    xp = xp_of(a)  # this device's array module
    return xp.ascontiguousarray(a.swapaxes(0, 1))


def _channels_last(c, out, g):
    """Whether the channels-last kernels beat the (C, N, *S) ones for this shape."""
    return g == 1 and c >= 8 and len(out) > 0 and c >= out[-1]


def _pad_l(x, lo, hi):
    """``x`` (N, C, *S) -> padded array in (N, *S', C) layout; negative pads crop."""
    xp = xp_of(x)  # this device's array module
    nd = len(lo)
    crop = tuple(slice(max(-a, 0), s - max(-b, 0)) for a, b, s in zip(lo, hi, x.shape[2:]))
    xl = x[(slice(None), slice(None)) + crop].transpose(0, *range(2, 2 + nd), 1)
    if all(a <= 0 for a in lo) and all(b <= 0 for b in hi):
        return xp.ascontiguousarray(xl)  # nothing to pad: no zero fill before the copy
    shape = (xl.shape[0],) + tuple(s + max(a, 0) + max(b, 0) for s, a, b in
                                   zip(xl.shape[1:-1], lo, hi)) + (xl.shape[-1],)
    buf = xp.zeros(shape, x.dtype)
    buf[(slice(None),) + tuple(slice(max(a, 0), max(a, 0) + n) for a, n in
                               zip(lo, xl.shape[1:-1]))] = xl
    return buf


def _im2col_l(xl, ks, s, d, out):
    """(N, *S, C) padded -> cols (N, *out, C, *ks), one strided copy per kernel offset."""
    xp = xp_of(xl)  # this device's array module
    n, c = xl.shape[0], xl.shape[-1]
    cols = xp.empty((n, *out, c, *ks), xl.dtype)
    nd = len(ks)
    for kidx in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(ki * di, ki * di + si * (oi - 1) + 1, si)
                   for ki, di, si, oi in zip(kidx, d, s, out))
        cols[(slice(None),) * (nd + 2) + kidx] = xl[(slice(None),) + sl]
    return cols


def _col2im_l(cols, ks, s, d, inp, full):
    """cols (N, *inp, C, *ks) -> (N, *full, C), summing overlapping windows."""
    xp = xp_of(cols)  # this device's array module
    nd = len(ks)
    n, c = cols.shape[0], cols.shape[1 + nd]
    buf = xp.zeros((n, *full, c), cols.dtype)
    for kidx in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(ki * di, ki * di + si * (ii - 1) + 1, si)
                   for ki, di, si, ii in zip(kidx, d, s, inp))
        buf[(slice(None),) + sl] += cols[(slice(None),) * (nd + 2) + kidx]
    return buf


def _l_to_nc(a):
    """(N, *S, C) -> contiguous (N, C, *S)."""
    xp = xp_of(a)  # this device's array module
    return xp.ascontiguousarray(a.transpose(0, a.ndim - 1, *range(1, a.ndim - 1)))


def _conv_fwd_l(x, w, b, s, lo, hi, d):
    ks = w.shape[2:]
    xl = _pad_l(x, lo, hi)
    out = tuple(_out_size(L, k, si, di) for L, k, si, di in zip(xl.shape[1:-1], ks, s, d))
    cols = _im2col_l(xl, ks, s, d, out)
    o, n = w.shape[0], x.shape[0]
    res = cols.reshape(n * math.prod(out), -1) @ w.reshape(o, -1).T  # (N*P, O)
    if b is not None:
        res += b
    return _l_to_nc(res.reshape(n, *out, o))


def _conv_t_fwd_l(x, w, b, s, lo, d, out):
    ks = w.shape[2:]
    n, cin = x.shape[:2]
    inp = x.shape[2:]
    cout = w.shape[1]
    xl = x.transpose(0, *range(2, x.ndim), 1).reshape(-1, cin)  # (N*P, Cin), one copy
    cols = (xl @ w.reshape(cin, -1)).reshape(n, *inp, cout, *ks)
    full = tuple(max((i - 1) * si + di * (k - 1) + 1, a + o)
                 for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out))
    buf = _col2im_l(cols, ks, s, d, inp, full)
    res = buf[(slice(None),) + tuple(slice(a, a + o) for a, o in zip(lo, out))]
    if b is not None:
        res += b
    return _l_to_nc(res)


def _conv_w_fwd_l(x, gy, s, lo, hi, d, ks):
    xl = _pad_l(x, lo, hi)
    out = gy.shape[2:]
    cols = _im2col_l(xl, ks, s, d, out)
    n, o = gy.shape[:2]
    gl = gy.reshape(n, o, -1).transpose(1, 0, 2).reshape(o, -1)  # (O, N*P)
    if type(gl) is np.ndarray:  # written into its final shape: see _conv_w_fwd_blocked
        gw = np.empty((o, x.shape[1], *ks), np.result_type(gl, cols))
        np.matmul(gl, cols.reshape(gl.shape[1], -1), out=gw.reshape(o, -1))
        return gw
    gw = gl @ cols.reshape(gl.shape[1], -1)
    return gw.reshape(o, x.shape[1], *ks)


# NOTE [ Batch-blocked convolution ]
# On the host, groups == 1 in the (C, N, *S) layout, the three ops run over blocks of ``nb``
# samples whose im2col buffer holds about _CONV_BLOCK elements (one sample when a sample alone
# is that large), instead of one im2col matrix for the whole batch: the packed buffer and the
# padded block are allocated once per call and reused (a whole-batch cols matrix is tens of
# megabytes, page-faulted in on every call and far out of cache), and with one sample per
# block the GEMM writes straight into the NCHW output (no (O, N, P) intermediate and no
# transposing copy). 1x1 kernels (any stride, no padding) skip im2col: the input block, or
# its strided subsample, is the GEMM operand itself. The weight is never copied: transposes
# are views handed to BLAS as flags (2-D matmul). The channels-last kernels (small maps, many
# channels) run per block too, with 4x larger blocks (their GEMMs have one row per output
# pixel of the block, so fewer samples would mean short, slow GEMMs).
_CONV_BLOCK = 1 << 19


def _blocked(x, g):
    return type(x) is np.ndarray and g == 1


def _nb(per_sample, n):
    return max(1, min(n, _CONV_BLOCK // max(1, per_sample)))


def _plain_1x1(ks, lo, hi):  # (dilation is irrelevant to a 1x1 kernel)
    return all(k == 1 for k in ks) and not any(lo) and not any(hi)


def _pack_geometry(shape, ks, s, lo, hi, d):
    """_Packer's (crop, full, out, p, k, one, padded, inner) for an input of ``shape``."""
    crop = tuple(slice(max(-a, 0), L - max(-b, 0)) for a, b, L in zip(lo, hi, shape[2:]))
    inner = tuple(sl.stop - sl.start for sl in crop)
    full = tuple(L + max(a, 0) + max(b, 0) for L, a, b in zip(inner, lo, hi))
    out = tuple(_out_size(L, k, si, di) for L, k, si, di in zip(full, ks, s, d))
    padded = any(a > 0 for a in lo) or any(b > 0 for b in hi)
    inner_sl = (slice(None), slice(None)) + tuple(
        slice(max(a, 0), max(a, 0) + L) for a, L in zip(lo, inner)) if padded else None
    return ((slice(None), slice(None)) + crop, full, out, math.prod(out), math.prod(ks),
            _plain_1x1(ks, lo, hi), padded, inner_sl)


_PACK_GEO: dict = {}


class _Packer:
    """im2col for blocks of samples of ``x`` (N, C, *S) into one reused (C*K, nb*P) buffer
    (views of the input itself for unpadded 1x1 kernels)."""

    def __init__(self, x, ks, s, lo, hi, d, nb):
        self.x, self.ks, self.s, self.d = x, ks, s, d
        self.lo, self.hi = lo, hi
        # the geometry, kept per shape (NOTE [ Checked convolution calls ]: pure arithmetic
        # on the shapes, most of a small convolution's set-up)
        key = (x.shape[1:], ks, s, lo, hi, d)
        geo = _PACK_GEO.get(key)
        if geo is None:
            geo = _remember(_PACK_GEO, key, _pack_geometry(x.shape, ks, s, lo, hi, d))
        self.crop, self.full, self.out, self.p, self.k, self.one, self.padded, self.inner = geo
        self.c, self.nb = x.shape[1], nb
        if not self.one:
            self.pad = None  # the padded block: made on first use (the C im2col pads itself)
            self.cols = np.empty((self.c, *ks, nb, *self.out), x.dtype)

    def block(self, n0, n1):
        """cols (C*K, (n1-n0)*P) for samples n0..n1-1 (valid until the next call)."""
        m = n1 - n0
        xb = self.x[n0:n1][self.crop]
        if self.one:
            if any(si != 1 for si in self.s):
                xb = xb[(slice(None), slice(None)) + tuple(
                    slice(0, si * (o - 1) + 1, si) for si, o in zip(self.s, self.out))]
            if m == 1:
                return xb[0].reshape(self.c, self.p)
            return np.ascontiguousarray(xb.swapaxes(0, 1)).reshape(self.c, m * self.p)
        if m == self.nb:
            packed = conv_kernels.im2col(self.x[n0:n1], self.lo, self.ks, self.s, self.d,
                                         self.out, self.cols.reshape(self.c * self.k, -1))
        else:
            packed = conv_kernels.im2col(self.x[n0:n1], self.lo, self.ks, self.s, self.d,
                                         self.out)
        if packed is not None:  # threaded C over (channel, tap), no padded copy
            return packed
        xt = xb.swapaxes(0, 1)  # (C, m, *S) view
        if self.padded:
            if self.pad is None:
                self.pad = np.zeros((self.c, self.nb) + self.full, self.x.dtype)  # borders 0
            pad = self.pad[:, :m]
            pad[self.inner] = xt
            xt = pad
        cols = self.cols[(slice(None),) * (1 + len(self.ks)) + (slice(0, m),)]
        for kidx in itertools.product(*[range(k) for k in self.ks]):
            sl = tuple(slice(ki * di, ki * di + si * (oi - 1) + 1, si)
                       for ki, di, si, oi in zip(kidx, self.d, self.s, self.out))
            cols[(slice(None),) + kidx] = xt[(slice(None), slice(None)) + sl]
        if m == self.nb:
            return self.cols.reshape(self.c * self.k, m * self.p)
        return np.ascontiguousarray(cols).reshape(self.c * self.k, m * self.p)


def _conv_fwd_blocked(x, w, b, s, lo, hi, d):
    n = x.shape[0]
    o, ks = w.shape[0], w.shape[2:]
    pk0 = _Packer(x, ks, s, lo, hi, d, 1)
    nb = _nb(pk0.c * pk0.k * pk0.p, n)
    pk = pk0 if nb == 1 else _Packer(x, ks, s, lo, hi, d, nb)
    w2 = w.reshape(o, -1)
    y = np.empty((n, o, *pk.out), np.result_type(x, w))
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = pk.block(n0, n1)
        if n1 - n0 == 1:
            np.matmul(w2, cols, out=y[n0].reshape(o, pk.p))
        else:
            # one GEMM per sample of the block, written straight into NCHW: no (O, m*P)
            # result transposed by another pass (LeNet's first conv: 0.58 -> 0.28 ms)
            m = n1 - n0
            np.matmul(w2, cols.reshape(-1, m, pk.p).transpose(1, 0, 2),
                      out=y[n0:n1].reshape(m, o, pk.p))
    if b is not None:
        y += b.reshape((o,) + (1,) * len(pk.out))
    return y


def _conv_w_fwd_blocked(x, gy, s, lo, hi, d, ks):
    n, o = gy.shape[:2]
    pk0 = _Packer(x, ks, s, lo, hi, d, 1)
    nb = _nb(pk0.c * pk0.k * pk0.p, n)
    pk = pk0 if nb == 1 else _Packer(x, ks, s, lo, hi, d, nb)
    # The weight gradient is written into an array of its final shape (not reshaped from
    # the GEMM's 2-D result, a view): the autograd engine stores a leaf's first gradient
    # without copying only when the array owns its memory (a 44 MB copy per ResNet-18 step).
    res = np.empty((o, x.shape[1], *ks), np.result_type(x, gy))
    gw = res.reshape(o, -1)
    tmp = None
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = pk.block(n0, n1)
        m = n1 - n0
        if m > 1 and pk.c * pk.k <= 32:
            # few input taps (a first layer): per-sample GEMMs summed, no transposed copy of
            # the gradient block (LeNet's first conv: 1.09 -> 0.29 ms); the (m, O, C*K)
            # partials are small exactly when C*K is
            part = np.matmul(gy[n0:n1].reshape(m, o, pk.p),
                             cols.reshape(-1, m, pk.p).transpose(1, 2, 0))
            if n0 == 0:
                np.sum(part, axis=0, out=gw)
            else:
                gw += part.sum(0)
            continue
        gb = gy[n0].reshape(o, pk.p) if m == 1 else \
            np.ascontiguousarray(gy[n0:n1].swapaxes(0, 1)).reshape(o, -1)
        if n0 == 0:
            np.matmul(gb, cols.T, out=gw)
        else:
            tmp = np.matmul(gb, cols.T, out=tmp)
            gw += tmp
    return res


def _conv_t_fwd_blocked(x, w, b, s, lo, d, out):
    n, cin = x.shape[:2]
    inp = x.shape[2:]
    cout, ks = w.shape[1], w.shape[2:]
    pin = math.prod(inp)
    k = math.prod(ks)
    w2t = w.reshape(cin, cout * k).T  # (Cout*K, Cin), a transposed view
    y = np.empty((n, cout, *out), np.result_type(x, w))
    if _plain_1x1(ks, lo, (0,) * len(ks)) and all(si == 1 for si in s) and out == inp:
        for i in range(n):  # the adjoint of a plain 1x1 convolution is one GEMM per sample
            np.matmul(w2t, x[i].reshape(cin, pin), out=y[i].reshape(cout, pin))
    else:
        full = tuple(max((i - 1) * si + di * (kk - 1) + 1, a + o)
                     for i, si, di, kk, a, o in zip(inp, s, d, ks, lo, out))
        nb = _nb(cout * k * pin, n)
        buf = np.empty((cout, nb, *full), y.dtype)
        crop = (slice(None), slice(None)) + tuple(slice(a, a + o) for a, o in zip(lo, out))
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            m = n1 - n0
            xb = x[n0].reshape(cin, pin) if m == 1 else \
                np.ascontiguousarray(x[n0:n1].swapaxes(0, 1)).reshape(cin, -1)
            cols = w2t @ xb
            yb = conv_kernels.col2im(cols, m, cout, inp, ks, s, lo, d, out)
            if yb is not None:  # threaded C, straight into the cropped NCHW block
                y[n0:n1] = yb
                continue
            cols = cols.reshape(cout, *ks, m, *inp)
            bb = buf[:, :m]
            bb.fill(0)
            for kidx in itertools.product(*[range(kk) for kk in ks]):
                sl = tuple(slice(ki * di, ki * di + si * (ii - 1) + 1, si)
                           for ki, di, si, ii in zip(kidx, d, s, inp))
                bb[(slice(None), slice(None)) + sl] += cols[(slice(None),) + kidx]
            y[n0:n1] = bb[crop].swapaxes(0, 1)
    if b is not None:
        y += b.reshape((cout,) + (1,) * len(out))
    return y


# NOTE [ Depthwise convolution ]
# groups == channels with one filter per channel (MobileNet's depthwise layers) makes the
# GEMM of the im2col path a batch of 1 x K products, which BLAS cannot use well. On the host
# these run as a sum over the kernel offsets of strided windows times per-channel weights
# (forward, input gradient) and of window-gradient products reduced per channel (weight
# gradient), with one reused temporary: K multiply-adds over the tensor, no im2col.
def _depthwise(x, w, g):
    return (type(x) is np.ndarray and g > 1 and g == x.shape[1] == w.shape[0]
            and w.shape[1] == 1)


def _depthwise_w(x, gy, g):
    return type(x) is np.ndarray and g > 1 and g == x.shape[1] == gy.shape[1]


def _pad_n(x, lo, hi):
    """``x`` (N, C, *S) padded (zeros) or cropped (negative pads), in its own layout."""
    nd = len(lo)
    crop = tuple(slice(max(-a, 0), L - max(-b, 0)) for a, b, L in zip(lo, hi, x.shape[2:]))
    x = x[(slice(None), slice(None)) + crop]
    if all(a <= 0 for a in lo) and all(b <= 0 for b in hi):
        return x
    buf = np.zeros(x.shape[:2] + tuple(L + max(a, 0) + max(b, 0) for L, a, b in
                                       zip(x.shape[2:], lo, hi)), x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(max(a, 0), max(a, 0) + L)
                                           for a, L in zip(lo, x.shape[2:nd + 2]))] = x
    return buf


def _windows(ks, s, d, out):
    """(kernel offset, the strided window slices it reads) for every kernel offset."""
    for kidx in itertools.product(*[range(k) for k in ks]):
        yield kidx, (slice(None), slice(None)) + tuple(
            slice(ki * di, ki * di + si * (oi - 1) + 1, si)
            for ki, di, si, oi in zip(kidx, d, s, out))


def _dw_fwd(x, w, b, s, lo, hi, d):
    ks = w.shape[2:]
    y = conv_kernels.dw_forward(x, w, b, s, lo, d, tuple(
        _out_size(L + a + c, k, si, di) for L, a, c, k, si, di in
        zip(x.shape[2:], lo, hi, ks, s, d)))  # NOTE [ Depthwise convolution kernels ]
    if y is not None:
        return y
    xp_ = _pad_n(x, lo, hi)
    out = tuple(_out_size(L, k, si, di) for L, k, si, di in zip(xp_.shape[2:], ks, s, d))
    bshape = (1, w.shape[0]) + (1,) * len(out)
    y = np.zeros(x.shape[:2] + out, np.result_type(x, w))
    tmp = np.empty_like(y)
    for kidx, sl in _windows(ks, s, d, out):
        y += np.multiply(xp_[sl], w[(slice(None), 0) + kidx].reshape(bshape), out=tmp)
    if b is not None:
        y += b.reshape(bshape)
    return y


def _dw_t_fwd(x, w, b, s, lo, d, out):
    """The adjoint of _dw_fwd in its input: windows scatter-add gy * w."""
    ks, inp = w.shape[2:], x.shape[2:]
    y = conv_kernels.dw_input_grad(x, w, s, lo, d, tuple(out))
    if y is not None:
        if b is not None:
            y += b.reshape((1, w.shape[0]) + (1,) * len(inp))
        return y
    full = tuple(max((i - 1) * si + di * (k - 1) + 1, a + o)
                 for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out))
    bshape = (1, w.shape[0]) + (1,) * len(inp)
    buf = np.zeros(x.shape[:2] + full, np.result_type(x, w))
    tmp = np.empty(x.shape, buf.dtype)
    for kidx, sl in _windows(ks, s, d, inp):
        buf[sl] += np.multiply(x, w[(slice(None), 0) + kidx].reshape(bshape), out=tmp)
    y = np.ascontiguousarray(buf[(slice(None), slice(None)) + tuple(
        slice(a, a + o) for a, o in zip(lo, out))])
    if b is not None:
        y += b.reshape(bshape)
    return y


def _dw_w_fwd(x, gy, s, lo, hi, d, ks):
    gw = conv_kernels.dw_weight_grad(x, gy, s, lo, d, tuple(ks))
    if gw is not None:
        return gw
    xp_ = _pad_n(x, lo, hi)
    out = gy.shape[2:]
    gw = np.empty((gy.shape[1], 1) + tuple(ks), np.result_type(x, gy))
    tmp = np.empty(gy.shape, gw.dtype)
    axes = (0,) + tuple(range(2, gy.ndim))
    for kidx, sl in _windows(ks, s, d, out):
        gw[(slice(None), 0) + kidx] = np.multiply(xp_[sl], gy, out=tmp).sum(axes)
    return gw


def _l_blocks(n, per_sample):
    """Sample blocks for the channels-last kernels (NOTE [ Batch-blocked convolution ]):
    their packed buffers then stay block-sized instead of whole-batch; blocks of equal size
    (64 samples in blocks of 60 then 4 made the last GEMM short)."""
    if n == 0:
        return [(0, 0)]  # one empty block (the whole-batch code handles it)
    nb = _nb(per_sample // 4, n)  # 4x the (C, N, S) block: their GEMMs have fewer rows
    nb = -(-n // -(-n // nb))
    return [(n0, min(n, n0 + nb)) for n0 in range(0, n, nb)]


# NOTE [ Channels-last windows ]
# On the host the channels-last kernels pack ``cols`` as (N, *out, *kernel, C): kernel
# offsets outer, channels inner. One window view of the padded (N, *S, C) block
# (``as_strided``: sample, output position, kernel offset, channel) is then copied in one
# call whose inner loop moves runs of ``kernel[-1] * C`` contiguous values (dilation 1), where
# the (N, *out, C, *kernel) order took one strided copy per kernel offset with a stride-K
# inner loop (measured 3.5-5x faster packing on LeNet/ResNet-18 shapes). The weight is
# permuted once per call to (O, *kernel, C) to match (a few hundred KB at most), the col2im of
# the input gradient adds channel vectors, and the NCHW results are written straight from the
# GEMM's (N*P, O) product by one transposing assignment into the output.
def _cl_weight(w):
    """(O, C, *ks) -> contiguous (O, prod(ks) * C) in (O, *ks, C) order."""
    # (a transpose view: np.moveaxis's axis checks cost more than the copy at small sizes)
    return np.ascontiguousarray(w.transpose(0, *range(2, w.ndim), 1)).reshape(w.shape[0], -1)


def _cl_pack(x, lo, hi, ks, s, d, out, buf):
    """cols (m, *out, *ks, C) of samples ``x`` (m, C, *S) into ``buf`` (or a new array)."""
    cols = conv_kernels.cl_pack(x, lo, ks, s, d, out, buf)  # threaded C, over samples
    if cols is not None:
        return cols
    xl = _pad_l(x, lo, hi)
    nd = len(ks)
    st = xl.strides
    view = np.lib.stride_tricks.as_strided(
        xl, (xl.shape[0], *out, *ks, xl.shape[-1]),
        (st[0],) + tuple(st[1 + i] * s[i] for i in range(nd))
        + tuple(st[1 + i] * d[i] for i in range(nd)) + (st[-1],), writeable=False)
    cols = buf[:xl.shape[0]] if buf is not None else np.empty(view.shape, xl.dtype)
    np.copyto(cols, view)
    return cols


def _kc_order(rows, o):
    """Whether the (*ks, C) packing pays for its permuted weight copy: the GEMM has at
    least as many rows (samples x output positions) as the weight has filters (ResNet's
    2x2 and 1x1 maps at batch 32 do not: there the weight outweighs the activations)."""
    return rows >= o


# NOTE [ Row-split GEMMs ]
# OpenBLAS multiplies a tall, thin (R, K) @ (K, O) product -- a channels-last convolution's
# rows are samples x output positions, its columns the filters -- faster as a stack of
# r-row products of under 10**6 multiply-adds each than as one call (its small-matrix
# path, no packing of the shared operand): on this machine's AVX-512 kernels a digits CNN's
# (4096, 288) @ (288, 32) took 0.82 ms in 64-row pieces against 1.15 ms whole, (1024, 288)
# @ (288, 64) 0.35 against 0.43 ms. NumPy's stacked matmul runs the pieces from C, given a
# row-major right operand (on a transposed view it is ~2x slower). Products with a
# reduction over rows (weight gradients) do not gain: there one GEMM stays.
# The small-matrix path runs on one thread, so the split is taken only while the BLAS runs
# on one thread (as the examples do); with more, one call lets OpenBLAS use them all.
_BLAS = []


def _blas_threads():
    """The BLAS's current thread count (a ~0.4 us call through threadpoolctl's controller,
    looked up once), or 0 when it cannot be read."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            _BLAS.append(libs[0].get_num_threads if len(libs) == 1 else None)
        except Exception:  # noqa: BLE001 - no threadpoolctl, or it cannot read the library
            _BLAS.append(None)
    return _BLAS[0]() if _BLAS[0] is not None else 0


def _gemm_rows(a, bt):
    """``a (R, K) @ bt (K, O)`` as a stack of row blocks when that suits OpenBLAS."""
    rows, k = a.shape
    o = bt.shape[1]
    r = 256
    while r >= 16 and r * k * o >= 1_000_000:
        r //= 2
    if r < 16 or rows <= r or type(a) is not np.ndarray or _blas_threads() != 1:
        return a @ bt
    # a row-major right operand: NumPy's stacked matmul on a transposed view is ~2x slower
    bt = np.ascontiguousarray(bt)
    main = rows - rows % r
    if main == rows:
        return np.matmul(a.reshape(-1, r, k), bt).reshape(rows, o)
    res = np.empty((rows, o), np.result_type(a, bt))
    np.matmul(a[:main].reshape(-1, r, k), bt, out=res[:main].reshape(-1, r, o))
    np.matmul(a[main:], bt, out=res[main:])
    return res


def _conv_fwd_l_blocked(x, w, b, s, lo, hi, d, out):
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    ks = w.shape[2:]
    p = math.prod(out)
    blocks = _l_blocks(n, c * math.prod(ks) * p)
    if not _kc_order(n * p, o):
        if len(blocks) == 1:
            return _conv_fwd_l(x, w, b, s, lo, hi, d)
        y = np.empty((n, o, *out), np.result_type(x, w))
        for n0, n1 in blocks:
            y[n0:n1] = _conv_fwd_l(x[n0:n1], w, b, s, lo, hi, d)
        return y
    wl = _cl_weight(w)
    y = np.empty((n, o, *out), np.result_type(x, w))
    buf = None
    if len(blocks) > 1:
        nb = blocks[0][1]
        buf = np.empty((nb, *out, *ks, c), x.dtype)
    for n0, n1 in blocks:
        m = n1 - n0
        cols = _cl_pack(x[n0:n1], lo, hi, ks, s, d, out, buf)
        res = _gemm_rows(cols.reshape(m * p, -1), wl.T)  # (m*P, O)
        if conv_kernels.to_nchw(res.reshape(m, p, o), b, y[n0:n1]):
            continue  # bias and transposition in one threaded pass
        if b is not None:
            res += b
        y[n0:n1].reshape(m, o, p)[...] = res.reshape(m, p, o).swapaxes(1, 2)
    return y


def _conv_t_fwd_l_blocked(x, w, b, s, lo, d, out):
    n, cin = x.shape[:2]
    inp = x.shape[2:]
    nd = len(inp)
    cout, ks = w.shape[1], w.shape[2:]
    pin = math.prod(inp)
    blocks = _l_blocks(n, cout * math.prod(ks) * pin)
    if not _kc_order(n * pin, cin):
        if len(blocks) == 1:
            return _conv_t_fwd_l(x, w, b, s, lo, d, out)
        y = np.empty((n, cout, *out), np.result_type(x, w))
        for n0, n1 in blocks:
            y[n0:n1] = _conv_t_fwd_l(x[n0:n1], w, b, s, lo, d, out)
        return y
    wl = _cl_weight(w)  # (Cin, *ks, Cout)
    full = tuple(max((i - 1) * si + di * (k - 1) + 1, a + o)
                 for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out))
    crop = (slice(None),) + tuple(slice(a, a + o) for a, o in zip(lo, out))
    y = np.empty((n, cout, *out), np.result_type(x, w))
    nb = blocks[0][1]
    buf = np.empty((nb, *full, cout), y.dtype)
    gl = np.empty((nb, *inp, cin), x.dtype)
    for n0, n1 in blocks:
        m = n1 - n0
        g = gl[:m]
        g.reshape(m, pin, cin)[...] = x[n0:n1].reshape(m, cin, pin).swapaxes(1, 2)
        cols = _gemm_rows(g.reshape(m * pin, cin), wl).reshape(m, *inp, *ks, cout)
        if conv_kernels.col2im_l(cols, b, y[n0:n1], inp, ks, s, lo, d):
            continue  # threaded C: the adds, the crop, the bias and the NCHW transposition
        bb = buf[:m]
        bb.fill(0)
        for kidx in itertools.product(*[range(k) for k in ks]):
            sl = tuple(slice(ki * di, ki * di + si * (ii - 1) + 1, si)
                       for ki, di, si, ii in zip(kidx, d, s, inp))
            bb[(slice(None),) + sl] += cols[(slice(None),) * (1 + nd) + kidx]
        y[n0:n1] = np.moveaxis(bb[crop], -1, 1)
        if b is not None:
            y[n0:n1] += b.reshape((cout,) + (1,) * nd)
    return y


# With stride 1 a transposed convolution is the convolution of its input, padded by
# d * (k - 1) - lo in front, with the flipped kernel (in and out channels swapped). That form
# needs no col2im scatter-add (nine strided adds over (N, *S, C) for a 3x3 kernel, ~40% of
# the input gradient's time on LeNet's second conv) at the price of GEMM rows for every output
# position instead of every input one: taken while that costs at most 1.5x the FLOPs (equal
# for 'same'-padded convolutions, 1.4x for LeNet's 3x3 'valid' one, where the GEMM's second
# thread more than pays for it).
def _t_as_conv_ok(n, inp, s, out, cin):
    return (all(si == 1 for si in s) and math.prod(out) <= 1.5 * math.prod(inp)
            and _kc_order(n * math.prod(inp), cin))


def _conv_t_as_conv(x, w, b, lo, d, out):
    ks = w.shape[2:]
    nd = len(ks)
    plo = tuple(di * (k - 1) - a for di, k, a in zip(d, ks, lo))
    phi = tuple(o - i + a for o, i, a in zip(out, x.shape[2:], lo))
    wf = w.swapaxes(0, 1)[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    return _conv_fwd_l_blocked(x, wf, b, (1,) * nd, plo, phi, d, out)


def _conv_w_fwd_l_blocked(x, gy, s, lo, hi, d, ks):
    n, c = x.shape[:2]
    o = gy.shape[1]
    out = gy.shape[2:]
    p = math.prod(out)
    blocks = _l_blocks(n, c * math.prod(ks) * p)
    if not _kc_order(n * p, o):
        gw = None
        for n0, n1 in blocks:
            part = _conv_w_fwd_l(x[n0:n1], gy[n0:n1], s, lo, hi, d, ks)
            gw = part if gw is None else gw.__iadd__(part)
        return gw
    nb = blocks[0][1]
    buf = np.empty((nb, *out, *ks, c), x.dtype) if len(blocks) > 1 else None
    gl = np.empty((o, nb, p), gy.dtype)
    gw = tmp = None
    for n0, n1 in blocks:
        m = n1 - n0
        cols = _cl_pack(x[n0:n1], lo, hi, ks, s, d, out, buf)
        g = gl[:, :m]
        g[...] = gy[n0:n1].reshape(m, o, p).swapaxes(0, 1)
        g = g.reshape(o, m * p) if m == nb else np.ascontiguousarray(g).reshape(o, m * p)
        if gw is None:
            gw = g @ cols.reshape(m * p, -1)
        else:
            tmp = np.matmul(g, cols.reshape(m * p, -1), out=tmp)
            gw += tmp
    # (O, *ks, C) -> (O, C, *ks)
    return np.ascontiguousarray(np.moveaxis(gw.reshape(o, *ks, c), -1, 1))


# NOTE [ Row-shift convolution ]
# With stride 1 along H, kernel row kh of a 2-d convolution reads the same input rows as
# kernel row 0, shifted down by kh*dh rows. So the input is packed only along W: X3 (N, Hp,
# OW, KW*C) with Hp = OH + (KH-1)*dh padded rows (rs_pack: each input row transposed once
# into an L1-sized buffer, then one memcpy of KW*C values per output column), KH times
# smaller than im2col's columns (LeNet's second conv: 3.5 MB instead of 8.9 MB). In X3's
# flat row order the rows that kernel row kh needs for output (n, oh, ow) sit kh*dh*OW
# rows below those of kernel row 0, so each pass is KH GEMMs of row windows of X3,
# accumulated by BLAS itself (beta = 1, NOTE [ Direct GEMM binding ]):
# * forward: Y[n] = sum_kh X3[n, window kh] @ W_kh, into (N, OH*OW, O) rows, then to_nchw
#   (bias and transposition in one pass);
# * input gradient (the transposed convolution, any stride along W): X3[n, window kh] +=
#   GY[n] @ W_kh^T into a zeroed X3, which rs_unpack (the adjoint of rs_pack) sums into
#   NCHW; no flipped-kernel convolution of a padded gy (1.4x the multiply-adds on LeNet's
#   'valid' conv);
# * weight gradient: G[:, kh] = sum_n GY[n]^T @ X3[n, window kh], in per-thread partials.
# rs_mm/rs_mmw run these from C, the rows of each sample in pieces of about 10**6
# multiply-adds (OpenBLAS's small-matrix kernels, ~20% faster on these shapes than its
# packed path, NOTE [ Row-split GEMMs ]) spread over the OpenMP threads, one BLAS thread
# each. Measured on one thread, CPU time per pass (old channels-last path -> this, on a
# loaded machine, +-10%): LeNet conv2 (64x32x13x13, 3x3 valid) forward 4.0 -> 3.5 ms,
# input gradient 6.4 -> 4.5, weight gradient 5.5 -> 5.3; ResNet-18-like 32x64x32x32
# 'same' 31.6/32.6/36.0 -> 28.0/29.4/29.7 ms. Layers too wide for small pieces
# (C*KW*O >= ~60000, e.g. 128 channels) run whole-block GEMMs instead (a Python loop over
# kernel rows), whose rows oh >= OH mix neighbouring samples and are dropped; there zero
# rows of GY meet X3 values, so an inf/nan operand sends the op to the other paths. 1-d
# convolutions are one-row 2-d ones (any stride). Without the direct binding (no
# ``*gemm64_`` symbol) the whole-block products run through np.matmul (bit for bit the
# same products); without a compiler the other paths run. Samples run in blocks whose X3
# holds about _RS_BLOCK elements (4 samples at least: the input gradient's threads take
# whole samples).
# Two threads: alone, LeNet conv2's passes take 1.9/1.9/2.5 ms (forward, input gradient,
# weight gradient; PyTorch's forward 1.44); right after a threaded OpenBLAS product they
# took 4.6/3.5/3.3 ms, because OpenBLAS's idle workers spin (about 2**28 cycles by
# default) on the cores the OpenMP pieces need. With OPENBLAS_THREAD_TIMEOUT=4 in the
# environment before NumPy loads (workers sleep at once) they stay at 1.9 ms, and a LeNet
# b64 training step took 14.2 ms (min of 8 alternated rounds; median 18.5) against 20.9
# without it (the old path: 20.1 and 19.5); import ember now sets it (NOTE [ OpenBLAS
# thread timeout ] in _backends/openblas_threads.py, 16 there).
_RS_BLOCK = 1 << 20
# Which convolutions take the row-shift kernels (EMBER_CONV_ROWSHIFT, read at import):
# "narrow" (the default) only those whose products run in threaded small-matrix pieces
# (_rs_piece > 0: C*KW*O up to ~20,000, LeNet's and ResNet-18's first stage); "all" also the
# wide layers, as whole-block GEMMs; "0" none. The wide layers' whole-block form measured
# slower than the channels-last path at 2 threads (ResNet-18 b32 fwd+bwd, quiet machine,
# 4 alternated rounds, OPENBLAS_THREAD_TIMEOUT=16: "all" 99 ms, "narrow" 79, "0" 81-86),
# so it stays opt-in; on one thread it measured faster (the one-thread figures above).
_RS_MODE = os.environ.get("EMBER_CONV_ROWSHIFT", "narrow")
_RS_ON = _RS_MODE != "0"
_RS_WIDE = _RS_MODE == "all"


def _rs_ok(x, ks, s, g, c, o):
    """Whether the row-shift kernels take this convolution (host float32/64, groups 1,
    1-d or 2-d with stride 1 along H, channels enough for a GEMM)."""
    return (_RS_ON and type(x) is np.ndarray and g == 1 and len(ks) in (1, 2) and x.dtype in _RS_DT
            and (len(ks) == 1 or s[0] == 1) and ks[-1] * c >= 24 and o >= 8
            and (_RS_WIDE or _rs_piece(ks[-1] * c * o) > 0)
            and conv_kernels.available())


_RS_DT = (np.dtype(np.float32), np.dtype(np.float64))


def _ran(done):
    """A row-shift C kernel's result: _rs_ok checked the conditions, so one that did not
    run is a bug, raised rather than leaving a buffer unwritten."""
    if not done:
        raise RuntimeError("convolution: a row-shift kernel did not run (dtype or layout)")


def _mm(a, b, out, beta):
    """``out = a @ b + beta * out`` (beta 0 or 1) by direct BLAS, else np.matmul."""
    if blas.gemm(a, b, out, beta):
        return
    if beta == 0:
        np.matmul(a, b, out=out)
    else:
        out += a @ b


def _rs_piece(per_row):
    """Rows per piece for the threaded small-matrix products (rs_mm/rs_mmw: about 10**6
    multiply-adds each, a multiple of 16), or 0 where pieces would be too short to pay
    (wide layers, where OpenBLAS's own packed, threaded path is as fast)."""
    r = min(1_000_000 // max(1, per_row), 512) // 16 * 16
    return r if r >= 48 else 0


def _rs_blocks(n, per_sample):
    # at least 4 samples a block where there are: the input gradient's threads take whole
    # samples
    if n == 0:
        return 1, []
    nb = min(n, max(4, _RS_BLOCK // max(1, per_sample)))
    nb = -(-n // -(-n // nb))  # blocks of equal size
    return nb, [(n0, min(n, n0 + nb)) for n0 in range(0, n, nb)]


def _rs_fwd(x, w, b, s, lo, d, out):
    """Row-shift forward of a 1-d/2-d convolution into a new (N, O, *out) array."""
    nd = len(out)
    o = w.shape[0]
    y = np.empty((x.shape[0], o, *out), np.result_type(x, w))
    if nd == 1:
        x, w, out = x[:, :, None], w[:, :, None], (1, out[0])
        s, lo, d = (1, s[0]), (0, lo[0]), (1, d[0])
    n, c = x.shape[:2]
    kh, kw = w.shape[2:]
    oh, ow = out
    hp = oh + (kh - 1) * d[0]
    kc = kw * c
    sh = d[0] * ow  # X3 rows between kernel rows
    wl = _cl_weight(w)  # (O, KH*KW*C), the (kh, kw, c) order of X3's rows
    fn, piece = blas.address(x.dtype), _rs_piece(o * kc)
    nb, blocks = _rs_blocks(n, hp * ow * kc)
    buf = np.empty((nb, hp, ow, kw, c), x.dtype)
    y4 = y.reshape(n, o, oh, ow)
    if fn and piece:
        wt = np.ascontiguousarray(wl.T)  # row-major (KH*KC, O): the NT small kernel is slower
        res = np.empty((nb, oh * ow, o), y.dtype)
    else:
        res = np.empty((nb * hp * ow, o), y.dtype)
    for n0, n1 in blocks:
        m = n1 - n0
        _ran(conv_kernels.rs_pack(x[n0:n1], lo, kw, s[1], d[1], hp, ow, buf[:m]))
        if fn and piece:  # per sample, its valid rows only, threaded
            with blas.one_thread():  # NOTE [ Direct GEMM binding ]
                conv_kernels.rs_mm(fn, m, oh * ow, o, kc, kh, buf, kc, hp * ow * kc, sh * kc, wt,
                                   o, kc * o, False, res, o, oh * ow * o, 0, r=piece)
            _ran(conv_kernels.to_nchw(res[:m], b, y4[n0:n1]))
            continue
        xf = buf[:m].reshape(m * hp * ow, kc)
        r = m * hp * ow - (kh - 1) * sh
        for i in range(kh):  # whole-block products: rows oh >= OH mix samples, unread
            _mm(xf[i * sh:i * sh + r], wl[:, i * kc:(i + 1) * kc].T, res[:r], 0 if i == 0 else 1)
        _ran(conv_kernels.to_nchw(res[:m * hp * ow].reshape(m, hp * ow, o)[:, :oh * ow], b,
                                  y4[n0:n1]))
    return y


def _rs_t(gy, w, b, s, lo, d, inp):
    """Row-shift transposed convolution (the input gradient of a 1-d/2-d convolution with
    input size ``inp``) into a new (N, C, *inp) array, or None where the weight holds
    inf/nan on the whole-block path: KH products GY @ W_kh^T added into shifted row
    windows of one X3-shaped buffer (the adjoint of _rs_fwd's windows), which rs_unpack
    sums into NCHW."""
    nd = len(inp)
    c = w.shape[1]
    fn = blas.address(gy.dtype)
    piece = _rs_piece(w.shape[0] * w.shape[-1] * c)
    if not (fn and piece) and not np.isfinite(np.add.reduce(w, axis=None)):
        return None
    y = np.empty((gy.shape[0], c, *inp), np.result_type(gy, w))
    if nd == 1:
        gy, w, inp = gy[:, :, None], w[:, :, None], (1, inp[0])
        s, lo, d = (1, s[0]), (0, lo[0]), (1, d[0])
    n, o = gy.shape[:2]
    kh, kw = w.shape[2:]
    oh, ow = gy.shape[2:]
    hp = oh + (kh - 1) * d[0]
    kc = kw * c
    sh = d[0] * ow  # X3 rows between kernel rows
    wl = _cl_weight(w)  # (O, KH*KW*C)
    nb, blocks = _rs_blocks(n, hp * ow * kc)
    buf = np.empty((nb, hp, ow, kw, c), y.dtype)
    y4 = y.reshape(n, c, *inp)
    gl = np.empty((nb, (oh if fn and piece else hp) * ow, o), gy.dtype)
    for n0, n1 in blocks:
        m = n1 - n0
        _ran(conv_kernels.from_nchw(gy[n0:n1].reshape(m, o, oh * ow), gl[:m]))
        if fn and piece:  # per sample: X3 zeroed, then its rows += GY[n] W_k^T, threaded
            with blas.one_thread():  # NOTE [ Direct GEMM binding ]
                conv_kernels.rs_mm(fn, m, oh * ow, kc, o, kh, gl, o, oh * ow * o, 0, wl,
                                   kh * kc, kc, False, buf, kc, hp * ow * kc, sh * kc, beta0=1,
                                   zlen=hp * ow * kc, r=piece)
        else:  # whole-block products: X3[t + k*sh] += GY[t] W_k^T (GY's unused rows zero)
            rows = m * hp * ow
            r = rows - (kh - 1) * sh
            xf = buf[:m].reshape(rows, kc)
            g2 = gl[:m].reshape(rows, o)[:r]
            xf[r:] = 0
            for i in range(kh):
                _mm(g2, wl[:, i * kc:(i + 1) * kc], xf[i * sh:i * sh + r], 0 if i == 0 else 1)
        _ran(conv_kernels.rs_unpack(buf[:m], lo, kw, s[1], d[1], y4[n0:n1]))
    if b is not None:
        y += b.reshape((c,) + (1,) * nd)
    return y


def _rs_w(x, gy, s, lo, d, ks):
    """Row-shift weight gradient (O, C, *ks) of a 1-d/2-d convolution of x given gy, or None
    where x holds inf/nan on the whole-block path (see NOTE [ Row-shift convolution ])."""
    o = gy.shape[1]
    nd = len(ks)
    fn, piece = blas.address(x.dtype), _rs_piece(o * ks[-1] * x.shape[1])
    if not (fn and piece) and not np.isfinite(np.add.reduce(x, axis=None)):
        return None
    res = np.empty((o, x.shape[1], *ks), np.result_type(x, gy))
    if nd == 1:
        x, gy, ks = x[:, :, None], gy[:, :, None], (1, ks[0])
        s, lo, d = (1, s[0]), (0, lo[0]), (1, d[0])
    n, c = x.shape[:2]
    kh, kw = ks
    oh, ow = gy.shape[2:]
    hp = oh + (kh - 1) * d[0]
    kc = kw * c
    sh = d[0] * ow
    nb, blocks = _rs_blocks(n, hp * ow * kc)
    buf = np.empty((nb, hp, ow, kw, c), x.dtype)
    gl = np.empty((nb, (oh if fn and piece else hp) * ow, o), gy.dtype)
    gw = np.empty((o, kh * kc), res.dtype) if blocks else np.zeros((o, kh * kc), res.dtype)
    tmp = None
    for j, (n0, n1) in enumerate(blocks):
        m = n1 - n0
        _ran(conv_kernels.rs_pack(x[n0:n1], lo, kw, s[1], d[1], hp, ow, buf[:m]))
        _ran(conv_kernels.from_nchw(gy[n0:n1].reshape(m, o, oh * ow), gl[:m]))
        if fn and piece:  # per sample, its valid rows only, per-thread partials
            if j:
                tmp = np.empty_like(gw) if tmp is None else tmp
            with blas.one_thread():  # NOTE [ Direct GEMM binding ]
                conv_kernels.rs_mmw(fn, m, oh * ow, o, kc, kh, sh, hp * ow * kc, gl, buf,
                                    tmp if j else gw, piece)
            if j:
                gw += tmp
            continue
        xf = buf[:m].reshape(m * hp * ow, kc)
        r = m * hp * ow - (kh - 1) * sh
        g2 = gl[:m].reshape(m * hp * ow, o)[:r].T  # (O, R), a transposed view
        for i in range(kh):
            _mm(g2, xf[i * sh:i * sh + r], gw[:, i * kc:(i + 1) * kc], 0 if j == 0 else 1)
    res.reshape(o, c, kh * kw)[...] = gw.reshape(o, kh * kw, c).swapaxes(1, 2)
    return res


# NOTE [ Fused strided convolution kernels ]
# Strided 2-d convolutions (groups 1) fall outside the row-shift kernels (stride 1 along H),
# and the other paths build the whole block's im2col (or col2im) matrix, run one GEMM on it
# and pass over the result again: ~8 MB of columns per pass for a 4x4/2 transposed
# convolution of 8x32x32x32, out of cache, and the GEMM in its slower orientation
# ((Cout*K, Cin) @ (Cin, P): 2.3 ms on one thread where (P, Cin) @ (Cin, Cout*K) takes 1.4).
# conv_kernels.cv_fused/ct_fused instead make each (sample, band of output rows) one task of
# an OpenMP loop that does everything in buffers of its thread's: the forward packs its
# band's windows channels-last from a transposed copy of the input rows it reads, multiplies
# them by the (K*C, O) weight with one single-threaded GEMM (the CBLAS gemm that NumPy
# links, NOTE [ Direct GEMM binding ]) and transposes the band's result into NCHW with the
# bias; the transposed convolution transposes its input rows, multiplies them by the
# (Ci, K*Co) weight and adds the channel vectors of every tap into the band's channels-last
# accumulator, transposed into NCHW at the end (bands take the input rows that reach them,
# so no two threads add into one value); the weight gradient sums gy[n, :, band] (NCHW as
# it is) @ the band's packed windows into a partial per thread, added in thread order. The
# transposes are AVX register blocks (conv_kernels.tr_*: the scalar form, walking across
# 16 KB-strided rows, had cost half of the packing). Measured on one thread, min of 15 on a
# shared machine (before -> after, PyTorch): conv_transpose2d 8x32x32x32 w 32x16x4x4 /2
# forward 3.2 -> 1.6 ms (1.9), its input gradient (a 4x4/2 convolution of 8x16x64x64)
# 2.0 -> 1.5 ms, its weight gradient 3.5 -> 1.5 ms, fwd+bwd 12.5 -> 5.0 ms (4.9); conv2d
# 8x32x64x64 3x3/2 forward 3.0 -> 1.8 ms (1.6-2.2); ResNet-18's 7x7/2 stem on 32x3x32x32
# forward 2.5 -> 1.7 ms, weight gradient 3.1 -> 1.7 ms. Two threads, a quiet moment:
# conv_transpose2d forward 0.94 ms (PyTorch 0.97), fwd+bwd 2.63 (2.62); the 3x3/2 conv
# forward 0.97 (0.85), fwd+bwd 3.2 (3.4-5.3). Taken for host float32/float64 with a CBLAS
# gemm found, while the weight stays cache-sized (K*C*O up to 2**17 values: the deep
# layers' large weights would be streamed once per task) and the GEMMs have rows enough
# (output rows of 16 positions or more); the transposed convolution also needs 8 output
# channels or more (its scatter adds vectors of them: with 4, 1x4x16x16 4x4/2 took 41 us
# against the other path's 30). Below 2**21 multiply-adds the kernels run on one thread.
def _fz_ok(x, ks, s, g, c, o, width):
    """Whether the fused kernels take this strided 2-d convolution (``c`` input and ``o``
    output channels of the convolution, ``width`` its output's, or for the transposed one
    its input's, row length)."""
    return (type(x) is np.ndarray and g == 1 and len(ks) == 2 and x.dtype in _RS_DT
            and x.ndim == 4 and (s[0] > 1 or s[1] > 1) and c * o * ks[0] * ks[1] <= 1 << 17
            and width >= 16 and conv_kernels.available() and bool(blas.address(x.dtype)))


def _fz_fwd(x, w, b, s, lo, d, out):
    """Fused strided convolution forward into a new (N, O, *out) array."""
    y = np.empty((x.shape[0], w.shape[0], *out), np.result_type(x, w))
    wt = np.ascontiguousarray(_cl_weight(w).T)  # (KH*KW*C, O), row-major
    _ran(conv_kernels.cv_fused(blas.address(x.dtype), x, wt, b, y, w.shape[2:], s, lo, d))
    return y


def _fz_w(x, gy, s, lo, d, ks):
    """Fused strided convolution weight gradient into a new (O, C, *ks) array."""
    o, c = gy.shape[1], x.shape[1]
    g = np.empty((o, ks[0] * ks[1] * c), np.result_type(x, gy))
    _ran(conv_kernels.cw_fused(blas.address(x.dtype), x, gy, g, ks, s, lo, d))
    res = np.empty((o, c, *ks), g.dtype)  # owned (see _conv_w_fwd_blocked)
    res.reshape(o, c, -1)[...] = g.reshape(o, -1, c).swapaxes(1, 2)
    return res


def _fz_t(x, w, b, s, lo, d, out):
    """Fused strided transposed convolution into a new (N, Cout, *out) array."""
    y = np.empty((x.shape[0], w.shape[1], *out), np.result_type(x, w))
    wl = _cl_weight(w)  # (Cin, KH*KW*Cout)
    _ran(conv_kernels.ct_fused(blas.address(x.dtype), x, wl, b, y, w.shape[2:], s, lo, d))
    return y


# NOTE [ Dead kernel taps ]
# On small maps some kernel taps read only padding for every output position: a 3x3,
# padding-1 convolution of a 1x1 map (ResNet-18's last stage on 32x32 inputs) uses its
# centre tap alone, a stride-2 one from 2x2 to 1x1 four of nine. The three ops then run on
# the kernel cropped to its live taps, with the padding moved by the cropped-off front
# (the output size is unchanged): im2col, the GEMMs and col2im shrink by the dead fraction
# (9x on those layers, whose weights make up most of the network's multiply-adds), and the
# weight gradient's dead taps are exact zeros, as the full computation gives them.
def _live_taps(inp, ks, s, lo, d, out):
    """Per spatial dim, the (first, last + 1) kernel taps that read the input for some
    output position, or None where every tap does (or none does); kept per geometry (a
    pure function of its arguments, worked out on every call of every layer)."""
    key = (inp, ks, s, lo, d, out)
    try:
        return _SPANS[key]
    except KeyError:
        pass
    if len(_SPANS) >= 1024:
        _SPANS.clear()
    r = _SPANS[key] = _live_taps_new(inp, ks, s, lo, d, out)
    return r


_SPANS: dict = {}


def _live_taps_new(inp, ks, s, lo, d, out):
    spans = []
    for L, k, si, a, di, o in zip(inp, ks, s, lo, d, out):
        live = []
        for t in range(k):
            first = max(0, -(-(a - t * di) // si))  # the first output reading at >= 0
            if first < o and first * si - a + t * di < L:
                live.append(t)
        if not live:
            return None
        spans.append((live[0], live[-1] + 1))
    if all(k0 == 0 and k1 == k for (k0, k1), k in zip(spans, ks)):
        return None
    return spans


def _crop_taps(w, spans):
    return w[(slice(None), slice(None)) + tuple(slice(k0, k1) for k0, k1 in spans)]


def _conv_fwd(*args):
    *arrs, p = args
    x, w = arrs[0], arrs[1]
    s, lo, hi, d, g = p
    ks = w.shape[2:]
    key = (x.shape[2:], ks, s, lo, hi, d)  # the live taps, kept per geometry
    live = _FWD_TAPS.get(key)
    if live is None:
        out = tuple(_out_size(L + a + b, k, si, di) for L, a, b, k, si, di
                    in zip(x.shape[2:], lo, hi, ks, s, d))
        spans = _live_taps(x.shape[2:], ks, s, lo, d, out)  # NOTE [ Dead kernel taps ]
        if spans is not None:
            live = (spans, tuple(a - k0 * di for a, (k0, _), di in zip(lo, spans, d)),
                    tuple(b - (k - k1) * di for b, (_, k1), k, di in zip(hi, spans, ks, d)))
        else:
            live = (None,)
        _remember(_FWD_TAPS, key, live)
    if live[0] is None:
        return _conv_fwd_all(*args)
    spans, lo2, hi2 = live
    arrs[1] = _crop_taps(w, spans)
    return _conv_fwd_all(*arrs, (s, lo2, hi2, d, g))


_FWD_TAPS: dict = {}


# NOTE [ Pointwise convolution as batched GEMMs ]
# A 1x1 convolution with stride 1 and no padding is, per sample, W (O, C) @ x[n] (C, P) on
# the NCHW arrays as they are: its forward and input gradient are one NumPy batched matmul
# (a BLAS GEMM per sample, the weight's 2-D operand shared, written straight into the
# output), its weight gradient one GEMM per sample with x[n] transposed by BLAS flags,
# summed. The general paths copied the input into channels-last order and the product back
# (8x64x44x44: two extra passes over 4 MB each). Taken for maps of 256 positions or more,
# where each sample's GEMM is large enough to stand alone.
def _pointwise(x, ks, s, lo, hi, g):
    return (type(x) is np.ndarray and g == 1 and all(k == 1 for k in ks)
            and all(si == 1 for si in s) and not any(lo) and not any(hi)
            and math.prod(x.shape[2:]) >= 256)


def _pw_fwd(x, w, b):
    n, c = x.shape[:2]
    o = w.shape[0]
    p = math.prod(x.shape[2:])
    y = np.empty((n, o) + x.shape[2:], np.result_type(x, w))
    np.matmul(np.ascontiguousarray(w.reshape(o, c)), np.ascontiguousarray(x).reshape(n, c, p),
              out=y.reshape(n, o, p))
    if b is not None:
        y += b.reshape((o,) + (1,) * (x.ndim - 2))
    return y


def _pw_w(x, gy):
    n, c = x.shape[:2]
    o = gy.shape[1]
    p = math.prod(x.shape[2:])
    xs = np.ascontiguousarray(x).reshape(n, c, p)
    gs = np.ascontiguousarray(gy).reshape(n, o, p)
    res = np.empty((o, c) + (1,) * (x.ndim - 2), np.result_type(x, gy))  # owned: see
    gw = res.reshape(o, c)                                                 # _conv_w_fwd_blocked
    np.matmul(gs[0], xs[0].T, out=gw)
    tmp = None
    for i in range(1, n):
        tmp = np.matmul(gs[i], xs[i].T, out=tmp)
        gw += tmp
    return res


def _conv_fwd_all(*args):
    *arrs, p = args
    x, w = arrs[0], arrs[1]
    s, lo, hi, d, g = p
    if _pointwise(x, w.shape[2:], s, lo, hi, g):  # NOTE [ Pointwise convolution as ...
        return _pw_fwd(x, w, arrs[2] if len(arrs) == 3 else None)
    ks = w.shape[2:]
    out_l = tuple(_out_size(L + a + b, k, si, di) for L, a, b, k, si, di
                  in zip(x.shape[2:], lo, hi, ks, s, d))
    if x.shape[0] == 0:  # an empty batch (the layout helpers reshape by -1)
        return xp_of(x).zeros((0, w.shape[0], *out_l), xp_of(x).result_type(x, w))
    if _rs_ok(x, ks, s, g, x.shape[1], w.shape[0]):  # NOTE [ Row-shift convolution ]
        return _rs_fwd(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, out_l)
    if _fz_ok(x, ks, s, g, x.shape[1], w.shape[0], out_l[-1]):  # NOTE [ Fused strided ...
        return _fz_fwd(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, out_l)
    if _channels_last(x.shape[1], out_l, g):
        if _blocked(x, g):
            return _conv_fwd_l_blocked(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, hi, d,
                                       out_l)
        return _conv_fwd_l(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, hi, d)
    if _blocked(x, g):
        return _conv_fwd_blocked(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, hi, d)
    if _depthwise(x, w, g):
        return _dw_fwd(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, hi, d)
    xt = _pad_t(x, lo, hi)
    out = tuple(_out_size(L, k, si, di) for L, k, si, di in zip(xt.shape[2:], ks, s, d))
    cols = _im2col(xt, ks, s, d, out)
    o = w.shape[0]
    n = x.shape[0]
    if g == 1:
        res = w.reshape(o, -1) @ cols.reshape(-1, n * math.prod(out))
    else:
        res = xp.matmul(w.reshape(g, o // g, -1), cols.reshape(g, -1, n * math.prod(out)))
    res = res.reshape(o, n, *out)
    if len(arrs) == 3:
        res += arrs[2].reshape((o,) + (1,) * (len(out) + 1))
    return _to_nc(res)


def _conv_t_fwd(*args):
    *arrs, p = args
    x, w = arrs[0], arrs[1]
    s, lo, d, g, out = p
    # the adjoint of a convolution of an ``out``-sized input to x's size: its live taps
    spans = _live_taps(out, w.shape[2:], s, lo, d, x.shape[2:])  # NOTE [ Dead kernel taps ]
    if spans is None or any(a - k0 * di < 0 for a, (k0, _), di in zip(lo, spans, d)):
        return _conv_t_fwd_all(*args)
    lo2 = tuple(a - k0 * di for a, (k0, _), di in zip(lo, spans, d))
    arrs[1] = _crop_taps(w, spans)
    return _conv_t_fwd_all(*arrs, (s, lo2, d, g, out))


def _conv_t_fwd_all(*args):
    xp = xp_of(args[0])  # this device's array module
    *arrs, p = args
    x, w = arrs[0], arrs[1]
    s, lo, d, g, out = p
    if x.shape[0] == 0:  # an empty batch (the layout helpers reshape by -1)
        return xp.zeros((0, w.shape[1] * g, *out), xp.result_type(x, w))
    if _pointwise(x, w.shape[2:], s, lo, lo, g) and tuple(out) == x.shape[2:]:
        # the adjoint of a pointwise convolution: W^T per sample (a (Cout, Cin) copy)
        wt = w.reshape(w.shape[0], w.shape[1]).T.reshape(w.shape[1], w.shape[0], *w.shape[2:])
        return _pw_fwd(x, wt, arrs[2] if len(arrs) == 3 else None)
    if _rs_ok(x, w.shape[2:], s, g, w.shape[1], x.shape[1]):  # NOTE [ Row-shift ...
        y = _rs_t(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, tuple(out))
        if y is not None:
            return y
    if w.shape[1] >= 8 and _fz_ok(x, w.shape[2:], s, g, w.shape[1], x.shape[1], x.shape[-1]):
        # NOTE [ Fused strided convolution kernels ] (its scatter adds vectors of the output
        # channels: fewer than 8 and the other paths are faster)
        return _fz_t(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, tuple(out))
    if _channels_last(w.shape[1] * g, x.shape[2:], g):
        if _blocked(x, g):
            if _t_as_conv_ok(x.shape[0], x.shape[2:], s, out, x.shape[1]):
                return _conv_t_as_conv(x, w, arrs[2] if len(arrs) == 3 else None, lo, d, out)
            return _conv_t_fwd_l_blocked(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d,
                                         out)
        return _conv_t_fwd_l(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, out)
    if _blocked(x, g):
        return _conv_t_fwd_blocked(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, out)
    if _depthwise(x, w, g):
        return _dw_t_fwd(x, w, arrs[2] if len(arrs) == 3 else None, s, lo, d, out)
    ks = w.shape[2:]
    n, cin = x.shape[:2]
    inp = x.shape[2:]
    cout = w.shape[1] * g
    xt = x.swapaxes(0, 1).reshape(g, cin // g, -1)
    wt = w.reshape(g, cin // g, -1)
    cols = xp.empty((g, wt.shape[2], xt.shape[2]), x.dtype)
    for i in range(g):  # 2-D GEMMs with a transposed view (see _conv_w_fwd)
        xp.matmul(wt[i].T, xt[i], out=cols[i])
    cols = cols.reshape(cout, *ks, n, *inp)
    full = tuple(max((i - 1) * si + di * (k - 1) + 1, a + o)
                 for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out))
    buf = _col2im(cols, ks, s, d, inp, full)
    res = buf[(slice(None), slice(None)) + tuple(slice(a, a + o) for a, o in zip(lo, out))]
    if len(arrs) == 3:
        res += arrs[2].reshape((cout,) + (1,) * (len(out) + 1))
    return _to_nc(res)


def _conv_w_fwd(x, gy, p):
    s, lo, hi, d, g, ks = p
    spans = _live_taps(x.shape[2:], ks, s, lo, d, gy.shape[2:])  # NOTE [ Dead kernel taps ]
    if spans is None:
        return _conv_w_fwd_all(x, gy, p)
    lo2 = tuple(a - k0 * di for a, (k0, _), di in zip(lo, spans, d))
    hi2 = tuple(b - (k - k1) * di for b, (_, k1), k, di in zip(hi, spans, ks, d))
    ks2 = tuple(k1 - k0 for k0, k1 in spans)
    part = _conv_w_fwd_all(x, gy, (s, lo2, hi2, d, g, ks2))
    gw = xp_of(part).zeros(part.shape[:2] + tuple(ks), part.dtype)
    gw[(slice(None), slice(None)) + tuple(slice(k0, k1) for k0, k1 in spans)] = part
    return gw


def _conv_w_fwd_all(x, gy, p):
    xp = xp_of(x)  # this device's array module
    s, lo, hi, d, g, ks = p
    if x.shape[0] == 0:  # an empty batch: no sample loop writes the result
        return xp.zeros((gy.shape[1], x.shape[1] // g, *ks), xp.result_type(x, gy))
    if _pointwise(x, ks, s, lo, hi, g) and gy.shape[2:] == x.shape[2:]:
        return _pw_w(x, gy)  # NOTE [ Pointwise convolution as batched GEMMs ]
    if _rs_ok(x, ks, s, g, x.shape[1], gy.shape[1]):  # NOTE [ Row-shift convolution ]
        gw = _rs_w(x, gy, s, lo, d, ks)
        if gw is not None:
            return gw
    if _fz_ok(x, ks, s, g, x.shape[1], gy.shape[1], gy.shape[-1]):  # NOTE [ Fused strided ...
        return _fz_w(x, gy, s, lo, d, ks)
    if _channels_last(x.shape[1], gy.shape[2:], g):
        if _blocked(x, g):
            return _conv_w_fwd_l_blocked(x, gy, s, lo, hi, d, ks)
        return _conv_w_fwd_l(x, gy, s, lo, hi, d, ks)
    if _blocked(x, g):
        return _conv_w_fwd_blocked(x, gy, s, lo, hi, d, ks)
    if _depthwise_w(x, gy, g):
        return _dw_w_fwd(x, gy, s, lo, hi, d, ks)
    xt = _pad_t(x, lo, hi)
    out = gy.shape[2:]
    cols = _im2col(xt, ks, s, d, out)
    n, o = gy.shape[:2]
    gt = gy.swapaxes(0, 1).reshape(g, o // g, -1)
    c2 = cols.reshape(g, -1, n * math.prod(out))
    # One 2-D GEMM per group: NumPy's batched matmul does not hand a transposed operand to
    # BLAS (measured 20x slower here), a 2-D product with a transposed view does.
    res = xp.empty((o, x.shape[1] // g, *ks), gy.dtype)  # owned (see _conv_w_fwd_blocked)
    gw = res.reshape(g, o // g, c2.shape[1])
    for i in range(g):
        xp.matmul(gt[i], c2[i].T, out=gw[i])
    return res


# --------------------------------------------------------------------------- the three ops
# input and weight only: the bias gradient needs no saved value, and PyTorch's node keeps no
# bias (editing it in place before backward is allowed there)
CONV = OpDef("convolution", _conv_fwd, save=(0, 1), onnx="Conv",
             node_name="ConvolutionBackward0")
CONV_T = OpDef("convolution_transpose", _conv_t_fwd, save=(0, 1), onnx="ConvTranspose",
               node_name="ConvolutionBackward0")
CONV_W = OpDef("convolution_weight", _conv_w_fwd, save="x",
               node_name="ConvolutionBackwardBackward0")


def _bias_grad(g):
    return g.sum([0, *range(2, g.ndim)])


@CONV.grad
def _(ctx, g):
    ins = ctx.inputs
    x, w = ins[0], ins[1]
    s, lo, hi, d, groups = ctx.params[0]
    gx = gw = gb = None
    if ctx.next[0] is not None:
        gx = apply(CONV_T, (g, w), ((s, lo, d, groups, tuple(x.shape[2:])),))
    if ctx.next[1] is not None:
        gw = apply(CONV_W, (x, g), ((s, lo, hi, d, groups, tuple(w.shape[2:])),))
    if len(ctx.next) == 3 and ctx.next[2] is not None:
        gb = _bias_grad(g)
    return (gx, gw, gb) if len(ctx.next) == 3 else (gx, gw)


def _t_as_conv_pads(inp, s, d, ks, lo, out):
    """Padding (lo, hi) that makes a convolution of the transposed output land on ``inp``."""
    hi = tuple((i - 1) * si + di * (k - 1) + 1 - a - o
               for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out))
    return lo, hi


@CONV_T.grad
def _(ctx, g):
    ins = ctx.inputs
    x, w = ins[0], ins[1]
    s, lo, d, groups, out = ctx.params[0]
    lo, hi = _t_as_conv_pads(x.shape[2:], s, d, w.shape[2:], lo, out)
    gx = gw = gb = None
    if ctx.next[0] is not None:
        gx = apply(CONV, (g, w), ((s, lo, hi, d, groups),))
    if ctx.next[1] is not None:
        gw = apply(CONV_W, (g, x), ((s, lo, hi, d, groups, tuple(w.shape[2:])),))
    if len(ctx.next) == 3 and ctx.next[2] is not None:
        gb = _bias_grad(g)
    return (gx, gw, gb) if len(ctx.next) == 3 else (gx, gw)


@CONV_W.grad
def _(ctx, ggw):
    x, gy = ctx.inputs
    s, lo, hi, d, groups, ks = ctx.params[0]
    gx = ggy = None
    if ctx.next[0] is not None:
        gx = apply(CONV_T, (gy, ggw), ((s, lo, d, groups, tuple(x.shape[2:])),))
    if ctx.next[1] is not None:
        ggy = apply(CONV, (x, ggw), ((s, lo, hi, d, groups),))
    return gx, ggy


# --------------------------------------------------------------------------- argument checks
def _tuple(v, n, name, arg):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"{name}(): expected {arg} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{arg}={list(v)}")
    return v


def _batchify(name, x, nd):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    if x.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(x.shape)}")
    return x, False


def _check_dtypes(name, x, w, b):
    for arg, v in (("weight", w), ("bias", b)):
        if v is not None and not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(v).__name__}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"{name}(): Input type ({x.dtype._short}) and weight type "
                           f"({w.dtype._short}) should be the same")
    if b is not None and b.dtype != w.dtype:
        raise RuntimeError(f"{name}(): Input type ({x.dtype._short}) and bias type "
                           f"({b.dtype._short}) should be the same")
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): expected a floating point input, got {x.dtype}")


def _fmt(shape, sep=" x "):
    return "(" + sep.join(str(s) for s in shape) + ")"


# NOTE [ Checked convolution calls ]
# The checks and the padding/stride normalisation of a convolution call depend only on
# the shapes and dtypes of its tensors and on its other arguments, so their result, (the
# record's attributes, batched or not), is kept per key (at most _CALLS_MAX entries, the
# oldest dropped first) and a layer's later calls go straight to the record: at ~1e3
# values the checks were a quarter of the call. Keys hold plain values only (ints, strs,
# tuples of ints: ``_call_key``); anything else takes the checking path every time. The
# pooling and padding fronts keep theirs the same way (NOTE [ Per-shape plans ], pool.py).
_CALLS: dict = {}
_PLANS_MAX = 256


def _remember(cache, key, value):
    """``cache[key] = value`` with the cache kept to _PLANS_MAX entries; returns value."""
    if len(cache) >= _PLANS_MAX:
        try:
            del cache[next(iter(cache))]
        except (KeyError, StopIteration, RuntimeError):  # another thread got there first
            pass
    cache[key] = value
    return value


_KEY_TYPES = frozenset((int, float, bool, str, type(None)))


def _call_key(*args):
    """A key of argument values and their types, or None when one is not a plain immutable
    value (an int, float, bool, str or None, or a tuple of ints; a list, a tensor, a NumPy
    integer are not, and take the full path). Types are part of the key, so 2 and 2.0 or
    True and 1 never share an entry; floats enter by their bits (``float.hex``: 0.0 and
    -0.0 compare equal but pad with different values)."""
    key = args
    for i, a in enumerate(args):
        t = a.__class__
        if t not in _KEY_TYPES:
            if t is not tuple:
                return None
            for v in a:
                if v.__class__ is not int:
                    return None
        elif t is float:
            key = key[:i] + (a.hex(),) + key[i + 1:]
    return key + tuple(map(type, args))



def _call_plan(name, input, weight, bias, stride, padding, dilation, groups):
    """(key, the kept (unbatched, params) or None) of a convolution call, (None, None) when
    the call has no key."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):
        return None, None
    args = _call_key(stride, padding, dilation, groups)
    if args is None:
        return None, None
    x, w = input._data, weight._data
    key = (name, x.shape, x.dtype, w.shape, w.dtype,
           None if bias is None else (bias._data.shape, bias._data.dtype), args)
    return key, _CALLS.get(key)


def convolution(name, input, weight, bias, stride, padding, dilation, groups, nd):
    """Shared implementation of conv1d/2d/3d (argument checks, then the ``convolution`` op)."""
    key, plan = _call_plan(name, input, weight, bias, stride, padding, dilation, groups)
    if plan is not None:  # NOTE [ Checked convolution calls ]
        unbatched, params = plan
        ins = ((input.unsqueeze(0) if unbatched else input, weight) if bias is None else
               (input.unsqueeze(0) if unbatched else input, weight, bias))
        y = apply(CONV, ins, params)
        return y.squeeze(0) if unbatched else y
    x, unbatched = _batchify(name, input, nd)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    _check_dtypes(name, x, weight, bias)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}(): expected weight to be {nd + 2}-D, but got "
                           f"{weight.ndim}-D weight of size {list(weight.shape)}")
    s = _tuple(stride, nd, name, "stride")
    d = _tuple(dilation, nd, name, "dilation")
    groups = int(groups)
    ks = tuple(weight.shape[2:])
    o, cg = weight.shape[:2]
    if groups <= 0:
        raise RuntimeError(f"{name}(): non-positive groups is not supported")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{name}(): non-positive stride is not supported")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{name}(): dilation should be greater than zero")
    if x.shape[1] != cg * groups:
        raise RuntimeError(f"{name}(): Given groups={groups}, weight of size {list(weight.shape)},"
                           f" expected input{list(x.shape)} to have {cg * groups} channels, but "
                           f"got {x.shape[1]} channels instead")
    if o % groups:
        raise RuntimeError(f"{name}(): Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{name}(): Given weight of size {list(weight.shape)}, expected bias "
                           f"to be 1-dimensional with {o} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(v != 1 for v in s):
                raise ValueError(f"{name}(): padding='same' is not supported for strided "
                                 "convolutions")
            tot = tuple(di * (k - 1) for di, k in zip(d, ks))
            lo = tuple(t // 2 for t in tot)
            hi = tuple(t - t // 2 for t in tot)
        else:
            raise RuntimeError(f"{name}(): Invalid padding string '{padding}', should be one "
                               "of ['valid', 'same']")
    else:
        lo = hi = _tuple(padding, nd, name, "padding")
        if any(v < 0 for v in lo):
            raise RuntimeError(f"{name}(): negative padding is not supported")
    padded = tuple(L + a + b for L, a, b in zip(x.shape[2:], lo, hi))
    eff = tuple(di * (k - 1) + 1 for di, k in zip(d, ks))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"{name}(): Calculated padded input size per channel: {_fmt(padded)}."
                           f" Kernel size: {_fmt(eff)}. Kernel size can't be greater than "
                           "actual input size")
    ins = (x, weight) if bias is None else (x, weight, bias)
    params = ((s, lo, hi, d, groups),)
    if key is not None:
        _remember(_CALLS, key, (unbatched, params))
    y = apply(CONV, ins, params)
    return y.squeeze(0) if unbatched else y


def convolution_transpose(name, input, weight, bias, stride, padding, output_padding, groups,
                          dilation, nd, output_size=None):
    """Shared implementation of conv_transpose1d/2d/3d."""
    x, unbatched = _batchify(name, input, nd)
    _check_dtypes(name, x, weight, bias)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}(): expected weight to be {nd + 2}-D, but got "
                           f"{weight.ndim}-D weight of size {list(weight.shape)}")
    s = _tuple(stride, nd, name, "stride")
    p = _tuple(padding, nd, name, "padding")
    op_ = _tuple(output_padding, nd, name, "output_padding")
    d = _tuple(dilation, nd, name, "dilation")
    groups = int(groups)
    ks = tuple(weight.shape[2:])
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"{name}(): Given transposed=1, weight of size "
                           f"{list(weight.shape)}, expected input{list(x.shape)} to have "
                           f"{weight.shape[0]} channels, but got {x.shape[1]} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{name}(): Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if any(a >= si and a >= di for a, si, di in zip(op_, s, d)):
        raise RuntimeError(f"{name}(): output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={list(op_)}, stride={list(s)}, "
                           f"dilation={list(d)}")
    cout = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (cout,):
        raise RuntimeError(f"{name}(): Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {cout} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    out = tuple((i - 1) * si - 2 * pi + di * (k - 1) + oi + 1
                for i, si, pi, di, k, oi in zip(x.shape[2:], s, p, d, ks, op_))
    if output_size is not None:
        want = tuple(int(v) for v in output_size)[-nd:]
        for o, w_, si in zip(out, want, s):
            if not (o - op_[0] <= w_ < o - op_[0] + si):
                raise ValueError(f"{name}(): requested an output size of {list(want)}, but "
                                 f"valid sizes range from {[v - a for v, a in zip(out, op_)]} "
                                 f"to {[v - a + si - 1 for v, a in zip(out, op_)]} (for an "
                                 f"input of {list(x.shape[2:])})")
        out = want
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{name}(): Given input size per channel: {_fmt(x.shape[2:])}. "
                           f"Calculated output size per channel: {_fmt(out)}. Output size is "
                           "too small")
    ins = (x, weight) if bias is None else (x, weight, bias)
    y = apply(CONV_T, ins, ((s, p, d, groups, out),))
    return y.squeeze(0) if unbatched else y


def _make_conv(nd):
    name = f"conv{nd}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return convolution(name, input, weight, bias, stride, padding, dilation, groups, nd)

    conv.__name__ = conv.__qualname__ = name
    conv.__doc__ = (f"Applies a {nd}-D convolution over an input of shape (N, C_in, *spatial).\n\n"
                    "    Args: input, weight (C_out, C_in/groups, *kernel), bias (C_out), stride,"
                    "\n    padding (int, tuple, 'valid' or 'same'), dilation, groups.\n")
    FUNCTIONS[name] = conv
    return conv


def _make_conv_t(nd):
    name = f"conv_transpose{nd}d"

    def conv_t(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
               dilation=1):
        return convolution_transpose(name, input, weight, bias, stride, padding, output_padding,
                                     groups, dilation, nd)

    conv_t.__name__ = conv_t.__qualname__ = name
    conv_t.__doc__ = (f"Applies a {nd}-D transposed convolution (the adjoint of conv{nd}d).\n\n"
                      "    Args: input, weight (C_in, C_out/groups, *kernel), bias, stride, "
                      "padding,\n    output_padding, groups, dilation.\n")
    FUNCTIONS[name] = conv_t
    return conv_t


conv1d = _make_conv(1)
conv2d = _make_conv(2)
conv3d = _make_conv(3)
conv_transpose1d = _make_conv_t(1)
conv_transpose2d = _make_conv_t(2)
conv_transpose3d = _make_conv_t(3)
