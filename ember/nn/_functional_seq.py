"""``nn.functional``: recurrent layer kernels and attention.

NOTE [ Fused recurrent layers ]
A recurrent layer (one direction of one layer of RNN/LSTM/GRU) is ONE op over the whole
sequence: ``lstm_layer(xproj, h0, c0, w_hh[, w_hr])`` etc., where ``xproj = x @ W_ih^T + b``
is computed beforehand for all time steps with a single matrix product. The forward loop
runs on raw arrays (one small GEMM and a few fused elementwise passes per step) and returns
the gate activations and states as extra outputs (NOTE [ Forward state as outputs ] in
``_functional_common.py``); the backward is a named record (``lstm_layer_backward`` etc.,
taking those arrays as inputs) that runs backpropagation through time on raw arrays,
accumulating the recurrent weight's gradient with one GEMM after the loop. This replaces ~10
recorded ops per time step by one node per layer. Attributes are plain values
(``batch_sizes`` a tuple of ints or None).

Variable-length (packed) batches run on the padded (T, B, ...) layout sorted by decreasing
length: ``batch_sizes[t]`` rows are active at step t, inactive rows keep their state and
produce zeros, so each sequence's final state is its state at its own last step.

Double backward: when the backward runs with ``create_graph=True``, the formula recomputes
the layer with ordinary differentiable ember ops (``_*_layer_composite``) and differentiates
that, so higher-order gradients are correct, just slower.
"""

from __future__ import annotations

import math

import numpy as np

import ember
from ember._backends import xp_of
from ember._codegen import rnn_kernels
from ember._codegen.kernel import get_num_threads
from ember._graph import GRAD
from ember._ops.conv import _blas_threads
from ember._ops.core import OpDef, apply
from ember._tensor import Tensor
from ember.nn._functional_common import _state
from ember.nn._functional_dropout import dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

def _sigmoid(x):
    # the tanh form on purpose: the same formula as the C gate kernels (_codegen/eager._sig),
    # so a layer gives the same results on the kernel and this fallback path; the two forms
    # differ only in the relative accuracy of results below ~6e-8 (an absolute error that
    # small in a gate multiplying O(1) states)
    xp = xp_of(x)
    r = xp.tanh(x * x.dtype.type(0.5))
    r *= x.dtype.type(0.5)
    r += x.dtype.type(0.5)
    return r


def _buf(xp, shape, dt, zero=False):
    """A layer buffer: host ones from the recurrent layers' pool (NOTE [ Recurrent layer
    buffers ] in _codegen/rnn_kernels.py), other backends' from their array module."""
    if xp is np:
        return rnn_kernels.zeros(shape, dt) if zero else rnn_kernels.empty(shape, dt)
    return xp.zeros(shape, dt) if zero else xp.empty(shape, dt)


def _col_block(b, p, hs, limit=600_000):
    """Columns per block of the recurrent GEMM: the widest divisor of ``hs`` (at least 16)
    whose (b, p) @ (p, cb) product stays under ``limit`` multiply-adds, else ``hs``."""
    return rnn_kernels.col_block(b, p, hs, limit, 16) or hs


# --------------------------------------------------------------------------- LSTM layer
def _lstm_fwd(xproj, h0, c0, whh, whr, bs):
    from ember._codegen import eager

    xp = xp_of(xproj)
    t_len, b, g4 = xproj.shape
    hs = g4 // 4
    p = h0.shape[1]
    dt = xproj.dtype
    acts = _buf(xp, (t_len, b, g4), dt)
    cs = _buf(xp, (t_len + 1, b, hs), dt)
    tcs = _buf(xp, (t_len, b, hs), dt)
    hraw = _buf(xp, (t_len, b, hs), dt) if whr is not None else None
    hs_all = _buf(xp, (t_len + 1, b, p), dt)
    hs_all[0] = h0
    cs[0] = c0
    # every row is written when all sequences are full length: no zero fill first
    out = _buf(xp, (t_len, b, p), dt, zero=bs is not None)
    state = (acts, cs, tcs, hs_all) + ((hraw,) if hraw is not None else ())
    if whr is None and bs is None and type(xproj) is np.ndarray:
        # the whole time loop in one C call (NOTE [ Whole-sequence LSTM kernels ])
        nt = get_num_threads()
        cb = rnn_kernels.seq_block(b, hs, nt)
        if cb is not None and rnn_kernels.lstm_seq_forward(
                xproj, np.ascontiguousarray(whh.reshape(g4 // cb, cb, p).transpose(0, 2, 1)),
                hs_all, cs, acts, tcs, out, nt):
            return (out, hs_all[t_len].copy(), cs[t_len].copy()) + state
    # On one BLAS thread the recurrent GEMM runs gate by gate: W_hh^T as a row-major
    # (4, P, H) stack, one (n, P) @ (P, H) product per gate into a gate-major (4, n, H)
    # buffer. OpenBLAS runs these four faster than the one (n, P) @ (P, 4H) product, on the
    # transposed view or a row-major copy alike ((32, 256) @ (256, 1024): 0.20 ms against
    # 0.27-0.35 ms; NOTE [ Row-split GEMMs ] in _ops/conv.py). With more threads one
    # product (on a row-major W_hh^T) lets the BLAS share it out.
    # The step kernel also takes narrower column blocks (W_hh^T as a (4H / cb, P, cb)
    # stack): products of under ~600k multiply-adds each take OpenBLAS's small-matrix path,
    # which packs nothing ((32, 256) @ (256, 1024) in 64-column blocks: ~155 us against
    # ~215 us in four gate blocks, ~260 us as one product; CPU time, one thread).
    gate_major = type(xproj) is np.ndarray and _blas_threads() == 1
    cb = _col_block(b, p, hs) if gate_major else hs
    whr_t = whr.T if whr is not None else None
    while True:
        if gate_major:
            whh_g = xp.ascontiguousarray(whh.reshape(g4 // cb, cb, p).transpose(0, 2, 1))
            hgb = xp.empty((g4 // cb, b, cb), dt)  # one buffer for every step's GEMM
        else:
            whh_g = xp.ascontiguousarray(whh.T)
            hgb = xp.empty((b, g4), dt)
        # the gate math of each step as one C call (NOTE [ Recurrent step kernels ])
        step = rnn_kernels.lstm_forward(xproj, hgb, gate_major, cs, acts, tcs,
                                        hraw if whr is not None else hs_all[1:],
                                        out if whr is None else None)
        if step is not None or cb == hs:
            break
        cb = hs  # the fallbacks below read whole gates

    def keep_finished(t, n):  # packed input: finished sequences keep their state
        cs[t + 1, n:] = cs[t, n:]
        hs_all[t + 1, n:] = hs_all[t, n:]
        acts[t, n:] = 0
        tcs[t, n:] = 0
        if hraw is not None:
            hraw[t, n:] = 0

    for t in range(t_len):
        n = b if bs is None else bs[t]
        h = hs_all[t]
        c = cs[t]
        hg = xp.matmul(h[:n], whh_g, out=hgb[:, :n] if gate_major else hgb[:n])
        a = acts[t]
        if step is not None:
            step(t, n)
            if whr is not None:
                hn = xp.matmul(hraw[t, :n], whr_t, out=hs_all[t + 1, :n])
                out[t, :n] = hn
            if n < b:
                keep_finished(t, n)
            continue
        hn = hraw[t, :n] if whr is not None else hs_all[t + 1, :n]
        # the gate math as one generated kernel writing acts, cs, tcs and hn in place
        if not eager.lstm_cell(xproj[t, :n], hg, c[:n], a[:n], cs[t + 1, :n], tcs[t, :n],
                               hn):
            gates = xproj[t, :n] + (hg.transpose(1, 0, 2).reshape(n, g4) if gate_major
                                    else hg)
            a[:n] = _sigmoid(gates)  # gate order i, f, g, o; g is tanh, the rest sigmoid
            a[:n, 2 * hs:3 * hs] = xp.tanh(gates[:, 2 * hs:3 * hs])
            i, f, g, o = a[:n, :hs], a[:n, hs:2 * hs], a[:n, 2 * hs:3 * hs], a[:n, 3 * hs:]
            cn = f * c[:n]
            cn += i * g
            cs[t + 1, :n] = cn
            tc = xp.tanh(cn)
            tcs[t, :n] = tc
            hn = o * tc
            if whr is not None:
                hraw[t, :n] = hn
        if whr is not None:
            hn = hn @ whr_t
        hs_all[t + 1, :n] = hn
        out[t, :n] = hn
        if n < b:
            keep_finished(t, n)
    return (out, hs_all[t_len].copy(), cs[t_len].copy()) + state


def _lstm_layer_fwd(xproj, h0, c0, whh, *args):
    """``lstm_layer`` record: ``(xproj, h0, c0, w_hh[, w_hr], batch_sizes)`` ->
    ``(output, h_n, c_n, acts, cs, tcs, hs[, hraw])``: the public outputs, then the
    forward state backward reads (gate activations, cell states, tanh of the cells,
    hidden states, pre-projection hidden states)."""
    *whr, bs = args
    return _lstm_fwd(xproj, h0, c0, whh, whr[0] if whr else None, bs)


def _lstm_bwd_seq(gout, dh, dc, whh, acts, tcs, cs, dgates):
    """The backward loop of a layer without projection and with full batches as one C call
    (NOTE [ Whole-sequence LSTM kernels ]); False (nothing done) where that does not apply.
    ``dh`` and ``dc`` are updated in place."""
    t_len, b, g4 = acts.shape
    hs = g4 // 4
    if type(gout) is not np.ndarray:
        return False
    nt = get_num_threads()
    cb = rnn_kernels.seq_block(b, hs, nt, 4 * hs, 850_000)
    if cb is None:
        return False
    whh_b = np.ascontiguousarray(whh.reshape(g4, hs // cb, cb).transpose(1, 0, 2))
    dh_c = np.ascontiguousarray(dh.reshape(b, hs // cb, cb).transpose(1, 0, 2))
    if not rnn_kernels.lstm_seq_backward(np.ascontiguousarray(gout), dh_c, dc, acts, tcs, cs,
                                         dgates, whh_b, nt):
        return False
    dh[...] = dh_c.transpose(1, 0, 2).reshape(b, hs)
    return True


def _lstm_bwd_blocked(gout, dh, dc, whh, acts, tcs, cs, dgates, bs):
    """The backward loop of a layer without projection with dh = dgates @ W_hh in column
    blocks; False (nothing done) where that does not apply.

    On one BLAS thread W_hh as a (H / cb, 4H, cb) stack into a (H / cb, B, cb) dh, which
    the step kernel reads as such: products under ~850k multiply-adds take OpenBLAS's
    small-matrix path, as in _lstm_fwd ((32, 1024) @ (1024, 256) in 16-column blocks: ~160
    us against ~200 us whole; CPU time). ``dh`` and ``dc`` are updated in place."""
    t_len, b, g4 = acts.shape
    hs = g4 // 4
    if type(gout) is not np.ndarray or _blas_threads() != 1:
        return False
    cb = _col_block(b, g4, hs, 850_000)
    if cb == hs:
        return False
    whh_c = np.ascontiguousarray(whh.reshape(g4, hs // cb, cb).transpose(1, 0, 2))
    dh_c = np.ascontiguousarray(dh.reshape(b, hs // cb, cb).transpose(1, 0, 2))
    step = rnn_kernels.lstm_backward(dh_c, gout, dc, acts, tcs, cs, dgates)
    if step is None:
        return False
    for t in range(t_len - 1, -1, -1):
        n = b if bs is None else bs[t]
        step(t, n)
        np.matmul(dgates[t, :n], whh_c, out=dh_c[:, :n])
    dh[...] = dh_c.transpose(1, 0, 2).reshape(b, hs)
    return True


def _lstm_bwd_arrays(gout, ghn, gcn, whh, whr, bs, saved):
    from ember._codegen import eager

    xp = xp_of(gout)
    acts, cs, tcs, hs_all = saved[:4]
    hraw = saved[4] if whr is not None else None
    t_len, b, g4 = acts.shape
    hs = g4 // 4
    # every step writes its active rows; only a packed batch's finished rows stay zero
    dgates = _buf(xp, acts.shape, acts.dtype, zero=bs is not None)
    dh = ghn.copy()
    dc = gcn.copy()
    dhb = xp.empty_like(dh)  # the per-step sum dh + gout, one buffer for all steps
    gwhr = xp.zeros_like(whr) if whr is not None else None
    # the gate gradients of each step as one C call (NOTE [ Recurrent step kernels ]); it
    # adds the output's gradient itself unless the projection sits in between
    dhp = xp.empty((b, hs), dh.dtype) if whr is not None else None  # dh_t @ W_hr
    done = whr is None and (
        bs is None and _lstm_bwd_seq(gout, dh, dc, whh, acts, tcs, cs, dgates)
        or _lstm_bwd_blocked(gout, dh, dc, whh, acts, tcs, cs, dgates, bs))
    step = None if done else rnn_kernels.lstm_backward(
        dhp if whr is not None else dh, gout if whr is None else None, dc, acts, tcs, cs,
        dgates)
    for t in range(-1 if done else t_len - 1, -1, -1):
        n = b if bs is None else bs[t]
        if step is not None:
            if whr is not None:
                dh_t = xp.add(dh[:n], gout[t, :n], out=dhb[:n])
                gwhr += dh_t.T @ hraw[t, :n]
                xp.matmul(dh_t, whr, out=dhp[:n])
            step(t, n)
            xp.matmul(dgates[t, :n], whh, out=dh[:n])
            continue
        dh_t = xp.add(dh[:n], gout[t, :n], out=dhb[:n])
        if whr is not None:
            gwhr += dh_t.T @ hraw[t, :n]
            dh_t = dh_t @ whr
        a = acts[t, :n]
        i, f, g, o = a[:, :hs], a[:, hs:2 * hs], a[:, 2 * hs:3 * hs], a[:, 3 * hs:]
        tc = tcs[t, :n]
        dg_ = dgates[t, :n]
        # the gate gradients as one generated kernel (dc updated in place)
        if eager.lstm_cell_backward(dh_t, dc[:n], a, tc, cs[t, :n], dg_, dc[:n]):
            xp.matmul(dg_, whh, out=dh[:n])
            continue
        dct = dc[:n] + dh_t * o * (1 - tc * tc)
        dg_ = dgates[t, :n]
        dg_[:, :hs] = dct * g * i * (1 - i)
        dg_[:, hs:2 * hs] = dct * cs[t, :n] * f * (1 - f)
        dg_[:, 2 * hs:3 * hs] = dct * i * (1 - g * g)
        dg_[:, 3 * hs:] = dh_t * tc * o * (1 - o)
        dc[:n] = dct * f
        xp.matmul(dg_, whh, out=dh[:n])
    gwhh = dgates.reshape(-1, g4).T @ hs_all[:-1].reshape(-1, hs_all.shape[2])
    return dgates, dh, dc, gwhh, gwhr


def _lstm_layer_composite(xproj, h0, c0, whh, whr, bs):
    """The same layer in differentiable ember ops (reference and double-backward path)."""
    t_len, b = xproj.shape[:2]
    hs = xproj.shape[2] // 4
    h, c = h0, c0
    outs = []
    for t in range(t_len):
        n = b if bs is None else bs[t]
        gates = xproj[t, :n] + h[:n] @ whh.t()
        i, f, g, o = gates.split(hs, 1)
        cn = i.sigmoid() * g.tanh() + f.sigmoid() * c[:n]
        hn = o.sigmoid() * cn.tanh()
        if whr is not None:
            hn = hn @ whr.t()
        outs.append(hn if n == b else ember.cat([hn, hn.new_zeros((b - n, hn.shape[1]))]))
        h = hn if n == b else ember.cat([hn, h[n:]])
        c = cn if n == b else ember.cat([cn, c[n:]])
    return ember.stack(outs), h, c


def _grad_composite(ctx, grads, composite):
    ins = ctx.inputs
    with ember.enable_grad():
        outs = composite(*ins)
    wanted = [i for i, e in enumerate(ctx.next) if e is not None]
    gs = ember.autograd.grad(outs, [ins[i] for i in wanted], grads, create_graph=True,
                             allow_unused=True)
    res = [None] * len(ins)
    for i, g in zip(wanted, gs):
        res[i] = g
    return tuple(res)


def _lstm_layer_bwd(ctx, grads):
    ins = ctx.inputs
    bs, = ctx.params
    if GRAD.enabled:
        return _grad_composite(ctx, grads, lambda x, h, c, w, r=None: _lstm_layer_composite(
            x, h, c, w, r, bs))
    state = tuple(Tensor._wrap(a) for a in _state(ctx))
    return tuple(apply(LSTM_LAYER_BWD, tuple(grads) + tuple(ins[3:]) + state, (bs,)))


def _lstm_layer_bwd_fwd(go, gh, gc, whh, *args):
    """``lstm_layer_backward`` record: ``(grad_output, grad_h_n, grad_c_n, w_hh[, w_hr],
    acts, cs, tcs, hs[, hraw], batch_sizes)`` -> ``(grad_xproj, grad_h0, grad_c0,
    grad_w_hh[, grad_w_hr])``."""
    *arrays, bs = args
    proj = len(arrays) == 6
    whr = arrays[0] if proj else None
    r = _lstm_bwd_arrays(go, gh, gc, whh, whr, bs, tuple(arrays[proj:]))
    return r if proj else r[:4]


LSTM_LAYER = OpDef("lstm_layer", _lstm_layer_fwd, _lstm_layer_bwd, save="x", multi=True,
                    public=3,
                   onnx="LSTM", attrs=("batch_sizes",), node_name="LstmLayerBackward0")
LSTM_LAYER_BWD = OpDef("lstm_layer_backward", _lstm_layer_bwd_fwd, None, multi=True,
                       differentiable=False, attrs=("batch_sizes",))


def _sizes(batch_sizes):
    """``batch_sizes`` as a record attribute: a tuple of ints, or None."""
    return None if batch_sizes is None else tuple(int(b) for b in batch_sizes)


def lstm_layer(xproj, h0, c0, whh, whr=None, batch_sizes=None):
    """One LSTM direction over a whole sequence: returns (output, h_n, c_n).

    Args:
        xproj: (T, B, 4H) input projections ``x @ W_ih^T + b_ih + b_hh`` for all steps.
        h0, c0: (B, P) and (B, H) initial states (P = proj_size or H).
        whh: (4H, P) recurrent weight; whr: optional (P, H) projection weight.
        batch_sizes: active rows per step for a sorted packed batch, or None.
    """
    ins = (xproj, h0, c0, whh) + ((whr,) if whr is not None else ())
    return apply(LSTM_LAYER, ins, (_sizes(batch_sizes),))


# --------------------------------------------------------------------------- GRU layer
def _gru_fwd(xproj, h0, whh, bhh, bs):
    from ember._codegen import eager

    xp = xp_of(xproj)
    t_len, b, g3 = xproj.shape
    hs = g3 // 3
    dt = xproj.dtype
    # every row is written when all sequences are full length: no zero fill first
    z = bs is not None
    acts = _buf(xp, (t_len, b, g3), dt, z)  # r, z, n
    ghn = _buf(xp, (t_len, b, hs), dt, z)  # the recurrent part of n's pre-activation
    hs_all = _buf(xp, (t_len + 1, b, hs), dt)
    hs_all[0] = h0
    out = _buf(xp, (t_len, b, hs), dt, z)
    whh_t = xp.ascontiguousarray(whh.T)  # as in _lstm_fwd: a faster GEMM operand
    ghb = xp.empty((b, g3), dt)  # one buffer for every step's recurrent GEMM
    # the gate math of each step as one C call (NOTE [ Recurrent step kernels ])
    step = rnn_kernels.gru_forward(xproj, ghb, hs_all, acts, ghn, out)
    for t in range(t_len):
        n = b if bs is None else bs[t]
        h = hs_all[t]
        gh = xp.matmul(h[:n], whh_t, out=ghb[:n])
        if bhh is not None:
            gh += bhh
        if step is not None:
            step(t, n)
            if n < b:
                hs_all[t + 1, n:] = h[n:]
            continue
        x = xproj[t, :n]
        hn = hs_all[t + 1, :n]
        # the gate math as one generated kernel writing acts and hn in place
        if not eager.gru_cell(x, gh, h[:n], acts[t, :n], hn):
            rz = _sigmoid(x[:, :2 * hs] + gh[:, :2 * hs])
            r, z = rz[:, :hs], rz[:, hs:]
            nn_ = xp.tanh(x[:, 2 * hs:] + r * gh[:, 2 * hs:])
            hn = nn_ + z * (h[:n] - nn_)
            acts[t, :n, :2 * hs] = rz
            acts[t, :n, 2 * hs:] = nn_
        ghn[t, :n] = gh[:, 2 * hs:]
        hs_all[t + 1, :n] = hn
        out[t, :n] = hn
        if n < b:
            hs_all[t + 1, n:] = h[n:]
    return out, hs_all[t_len].copy(), acts, ghn, hs_all


def _gru_layer_fwd(xproj, h0, whh, *args):
    """``gru_layer`` record: ``(xproj, h0, w_hh[, b_hh], batch_sizes)`` -> ``(output, h_n,
    acts, ghn, hs)``: the public outputs, then the forward state backward reads (gate
    activations, the recurrent part of the new gate, hidden states)."""
    *bhh, bs = args
    return _gru_fwd(xproj, h0, whh, bhh[0] if bhh else None, bs)


def _gru_bwd_arrays(gout, ghn_, whh, has_bias, bs, saved):
    from ember._codegen import eager

    xp = xp_of(gout)
    acts, ghn, hs_all = saved
    t_len, b, g3 = acts.shape
    hs = g3 // 3
    dx = _buf(xp, acts.shape, acts.dtype, bs is not None)
    dgh = _buf(xp, acts.shape, acts.dtype, bs is not None)
    dh = ghn_.copy()
    dhb = xp.empty_like(dh)  # per-step buffers, reused
    tmp = xp.empty_like(dh)
    # the gate gradients of each step as one C call (NOTE [ Recurrent step kernels ]),
    # adding the output's gradient itself and leaving the direct path (dh * z) in tmp
    step = rnn_kernels.gru_backward(dh, gout, acts, hs_all, ghn, dx, dgh, tmp)
    for t in range(t_len - 1, -1, -1):
        n = b if bs is None else bs[t]
        if step is not None:
            step(t, n)
            xp.matmul(dgh[t, :n], whh, out=dh[:n])
            dh[:n] += tmp[:n]
            continue
        dh_t = xp.add(dh[:n], gout[t, :n], out=dhb[:n])
        a = acts[t, :n]
        r, z, nn_ = a[:, :hs], a[:, hs:2 * hs], a[:, 2 * hs:]
        hp = hs_all[t, :n]
        # the gate gradients as one generated kernel
        if eager.gru_cell_backward(dh_t, a, hp, ghn[t, :n], dx[t, :n], dgh[t, :n]):
            xp.matmul(dgh[t, :n], whh, out=dh[:n])
            dh[:n] += xp.multiply(dh_t, z, out=tmp[:n])
            continue
        dn = dh_t * (1 - z) * (1 - nn_ * nn_)
        dz = dh_t * (hp - nn_) * z * (1 - z)
        dr = dn * ghn[t, :n] * r * (1 - r)
        dxt = dx[t, :n]
        dxt[:, :hs] = dr
        dxt[:, hs:2 * hs] = dz
        dxt[:, 2 * hs:] = dn
        dght = dgh[t, :n]
        dght[:, :2 * hs] = dxt[:, :2 * hs]
        dght[:, 2 * hs:] = dn * r
        dh[:n] = dh_t * z + dght @ whh
    gwhh = dgh.reshape(-1, g3).T @ hs_all[:-1].reshape(-1, hs)
    gbhh = dgh.reshape(-1, g3).sum(0) if has_bias else None
    return dx, dh, gwhh, gbhh


def _gru_layer_composite(xproj, h0, whh, bhh=None, bs=None):
    t_len, b = xproj.shape[:2]
    hs = xproj.shape[2] // 3
    h = h0
    outs = []
    for t in range(t_len):
        n = b if bs is None else bs[t]
        gh = h[:n] @ whh.t()
        if bhh is not None:
            gh = gh + bhh
        xr, xz, xn = xproj[t, :n].split(hs, 1)
        hr, hz, hn_ = gh.split(hs, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        nn_ = (xn + r * hn_).tanh()
        hn = (1 - z) * nn_ + z * h[:n]
        outs.append(hn if n == b else ember.cat([hn, hn.new_zeros((b - n, hs))]))
        h = hn if n == b else ember.cat([hn, h[n:]])
    return ember.stack(outs), h


def _gru_layer_bwd(ctx, grads):
    ins = ctx.inputs
    bs, = ctx.params
    if GRAD.enabled:
        return _grad_composite(ctx, grads, lambda *a: _gru_layer_composite(
            *a[:len(ins)], bs=bs))
    has_bias = len(ins) == 4
    state = tuple(Tensor._wrap(a) for a in _state(ctx))
    return tuple(apply(GRU_LAYER_BWD, tuple(grads) + (ins[2],) + state, (has_bias, bs)))


def _gru_layer_bwd_fwd(go, gh, whh, acts, ghn, hs_all, has_bias, bs):
    """``gru_layer_backward`` record: ``(grad_output, grad_h_n, w_hh, acts, ghn, hs,
    has_bias, batch_sizes)`` -> ``(grad_xproj, grad_h0, grad_w_hh[, grad_b_hh])``."""
    r = _gru_bwd_arrays(go, gh, whh, has_bias, bs, (acts, ghn, hs_all))
    return r if has_bias else r[:3]


GRU_LAYER = OpDef("gru_layer", _gru_layer_fwd, _gru_layer_bwd, save="x", multi=True, public=2,
                  onnx="GRU", attrs=("batch_sizes",), node_name="GruLayerBackward0")
GRU_LAYER_BWD = OpDef("gru_layer_backward", _gru_layer_bwd_fwd, None, multi=True,
                      differentiable=False, attrs=("has_bias", "batch_sizes"))


def gru_layer(xproj, h0, whh, bhh=None, batch_sizes=None):
    """One GRU direction over a whole sequence: returns (output, h_n).

    ``xproj`` = x @ W_ih^T + b_ih for all steps; ``bhh`` stays inside the recurrence because
    the new-gate term multiplies it by the reset gate (PyTorch's formulation).
    """
    ins = (xproj, h0, whh) + ((bhh,) if bhh is not None else ())
    return apply(GRU_LAYER, ins, (_sizes(batch_sizes),))


# --------------------------------------------------------------------------- Elman RNN layer
def _rnn_fwd(xproj, h0, whh, relu, bs):
    xp = xp_of(xproj)
    t_len, b, hs = xproj.shape
    hs_all = xp.empty((t_len + 1, b, hs), xproj.dtype)
    hs_all[0] = h0
    out = xp.zeros((t_len, b, hs), xproj.dtype)
    whh_t = xp.ascontiguousarray(whh.T)  # as in _lstm_fwd: a faster GEMM operand
    for t in range(t_len):
        n = b if bs is None else bs[t]
        a = xproj[t, :n] + hs_all[t, :n] @ whh_t
        hn = xp.maximum(a, 0) if relu else xp.tanh(a)
        hs_all[t + 1, :n] = hn
        out[t, :n] = hn
        if n < b:
            hs_all[t + 1, n:] = hs_all[t, n:]
    return out, hs_all[t_len].copy(), hs_all


def _rnn_bwd_arrays(gout, ghn, whh, relu, bs, hs_all):
    xp = xp_of(gout)
    t_len, b, hs = gout.shape
    da = xp.zeros_like(gout)
    dh = ghn.copy()
    for t in range(t_len - 1, -1, -1):
        n = b if bs is None else bs[t]
        h = hs_all[t + 1, :n]
        dh_t = dh[:n] + gout[t, :n]
        d = dh_t * (h > 0) if relu else dh_t * (1 - h * h)
        da[t, :n] = d
        dh[:n] = d @ whh
    gwhh = da.reshape(-1, hs).T @ hs_all[:-1].reshape(-1, hs)
    return da, dh, gwhh


def _rnn_layer_composite(xproj, h0, whh, relu=False, bs=None):
    t_len, b = xproj.shape[:2]
    h = h0
    outs = []
    for t in range(t_len):
        n = b if bs is None else bs[t]
        a = xproj[t, :n] + h[:n] @ whh.t()
        hn = a.relu() if relu else a.tanh()
        outs.append(hn if n == b else ember.cat([hn, hn.new_zeros((b - n, hn.shape[1]))]))
        h = hn if n == b else ember.cat([hn, h[n:]])
    return ember.stack(outs), h


def _rnn_layer_bwd(ctx, grads):
    relu, bs = ctx.params
    if GRAD.enabled:
        return _grad_composite(ctx, grads, lambda *a: _rnn_layer_composite(*a[:3], relu, bs))
    hs_all, = _state(ctx)
    return tuple(apply(RNN_LAYER_BWD, tuple(grads) + (ctx.inputs[2], Tensor._wrap(hs_all)),
                       (relu, bs)))


def _rnn_layer_bwd_fwd(gout, ghn, whh, hs_all, relu, bs):
    """``rnn_layer_backward`` record: ``(grad_output, grad_h_n, w_hh, hs, relu,
    batch_sizes)`` -> ``(grad_xproj, grad_h0, grad_w_hh)``."""
    return _rnn_bwd_arrays(gout, ghn, whh, relu, bs, hs_all)


RNN_LAYER = OpDef("rnn_layer", _rnn_fwd, _rnn_layer_bwd, save="x", multi=True, onnx="RNN",
                   public=2,
                  attrs=("relu", "batch_sizes"), node_name="RnnLayerBackward0")
RNN_LAYER_BWD = OpDef("rnn_layer_backward", _rnn_layer_bwd_fwd, None, multi=True,
                      differentiable=False, attrs=("relu", "batch_sizes"))


def rnn_layer(xproj, h0, whh, nonlinearity="tanh", batch_sizes=None):
    """One Elman RNN direction: h_t = act(xproj_t + h_{t-1} @ W_hh^T); returns (out, h_n)."""
    relu = nonlinearity == "relu"
    return apply(RNN_LAYER, (xproj, h0, whh), (relu, _sizes(batch_sizes)))


# --------------------------------------------------------------------------- attention
def _dropout(x, p, training=True):
    # the attention weights' dropout is F.dropout's random record, like every other mask
    return dropout(x, p, training)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims of (..., L, E) / (..., S, E).

    Args:
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable
            to (..., L, S).
        dropout_p: dropout on the attention weights; is_causal: mask out future positions.
        scale: defaults to 1/sqrt(E).

    Example:
        >>> q = k = v = ember.randn(2, 4, 5, 8)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        torch.Size([2, 4, 5, 8])
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention(): query, key and value must be at "
                           f"least 2-D, got {list(query.shape)}, {list(key.shape)}, "
                           f"{list(value.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention(): query's embedding size "
                           f"({query.shape[-1]}) must equal key's ({key.shape[-1]}); shapes "
                           f"{list(query.shape)} and {list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention(): key and value must have the same "
                           f"sequence length, got {list(key.shape)} and {list(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention(): explicit attn_mask should not be set "
                           "when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3) if hasattr(key, "repeat_interleave") else \
            key.unsqueeze(-3).expand(*key.shape[:-2], rep, *key.shape[-2:]).flatten(-4, -3)
        value = value.unsqueeze(-3).expand(*value.shape[:-2], rep, *value.shape[-2:]) \
            .flatten(-4, -3)
    L, S = query.shape[-2], key.shape[-2]
    sc = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ember.matmul(query, key.transpose(-2, -1)) * sc
    if is_causal:
        keep = np.tril(np.ones((L, S), bool))
        scores = scores.masked_fill(Tensor._wrap(~keep), float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype == ember.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    w = ember.softmax(scores, -1)
    if dropout_p > 0:
        w = _dropout(w, dropout_p)
    return ember.matmul(w, value)


def _linear(x, w, b):
    y = ember.matmul(x, w.t())
    return y + b if b is not None else y


def _merge_masks(key_padding_mask, attn_mask, bsz, nh, tgt, src, dtype):
    """Both masks as one float mask (B, nh, L, S) (or None), bool True = masked out."""
    mask = None
    if attn_mask is not None:
        if attn_mask.dtype == ember.bool:
            m = ember.zeros(*attn_mask.shape, dtype=dtype).masked_fill(attn_mask, float("-inf"))
        else:
            m = attn_mask.to(dtype)
        if m.ndim == 2:
            if tuple(m.shape) != (tgt, src):
                raise RuntimeError(f"The shape of the 2D attn_mask is {list(m.shape)}, but should"
                                   f" be {[tgt, src]}.")
            m = m.reshape(1, 1, tgt, src)
        elif m.ndim == 3:
            if tuple(m.shape) != (bsz * nh, tgt, src):
                raise RuntimeError(f"The shape of the 3D attn_mask is {list(m.shape)}, but should"
                                   f" be {[bsz * nh, tgt, src]}.")
            m = m.reshape(bsz, nh, tgt, src)
        else:
            raise RuntimeError(f"attn_mask's dimension {m.ndim} is not supported")
        mask = m
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src):
            raise RuntimeError(f"expected key_padding_mask of shape {[bsz, src]}, but got "
                               f"{list(key_padding_mask.shape)}")
        if key_padding_mask.dtype == ember.bool:
            k = ember.zeros(bsz, src, dtype=dtype).masked_fill(key_padding_mask, float("-inf"))
        else:
            k = key_padding_mask.to(dtype)
        k = k.reshape(bsz, 1, 1, src)
        mask = k if mask is None else mask + k
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) / (S, N, E) inputs (PyTorch's functional form).

    Returns ``(attn_output (L, N, E), attn_weights or None)``; weights are averaged over
    heads when ``average_attn_weights`` (shape (N, L, S)), else (N, heads, L, S).
    """
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt, bsz, e = query.shape
    src = key.shape[0]
    if e != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {e}")
    hd = e // num_heads
    if hd * num_heads != e:
        raise AssertionError(f"embed_dim {e} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key shape {list(key.shape)} does not match value shape "
                             f"{list(value.shape)}")
    if is_causal and attn_mask is None:
        attn_mask = Tensor._wrap(~np.tril(np.ones((tgt, src), bool)))
    if not use_separate_proj_weight:
        wq, wk, wv = in_proj_weight.chunk(3)
    else:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    if query is key and key is value and not use_separate_proj_weight:
        q, k, v = _linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
    else:
        q = _linear(query, wq, bq)
        k = _linear(key, wk, bk)
        v = _linear(value, wv, bv)
    if bias_k is not None and bias_v is not None:
        k = ember.cat([k, bias_k.expand(1, bsz, e)])
        v = ember.cat([v, bias_v.expand(1, bsz, e)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    # (L, N, E) -> (N, heads, L, hd)
    q = q.reshape(tgt, bsz, num_heads, hd).permute(1, 2, 0, 3)
    k = (static_k.reshape(bsz, num_heads, -1, hd) if static_k is not None else
         k.reshape(k.shape[0], bsz, num_heads, hd).permute(1, 2, 0, 3))
    v = (static_v.reshape(bsz, num_heads, -1, hd) if static_v is not None else
         v.reshape(v.shape[0], bsz, num_heads, hd).permute(1, 2, 0, 3))
    if add_zero_attn:
        k = ember.cat([k, k.new_zeros((bsz, num_heads, 1, hd))], 2)
        v = ember.cat([v, v.new_zeros((bsz, num_heads, 1, hd))], 2)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    s_len = k.shape[2]
    mask = _merge_masks(key_padding_mask, attn_mask, bsz, num_heads, tgt, s_len, q.dtype)
    scores = ember.matmul(q * (1.0 / math.sqrt(hd)), k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    w = ember.softmax(scores, -1)
    if training and dropout_p > 0:
        w = _dropout(w, dropout_p)
    out = ember.matmul(w, v)  # (N, heads, L, hd)
    out = out.permute(2, 0, 1, 3).reshape(tgt, bsz, e)
    out = _linear(out, out_proj_weight, out_proj_bias)
    weights = None
    if need_weights:
        weights = w.mean(1) if average_attn_weights else w
    if unbatched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _pad_last(m):
    pad = ember.zeros(*m.shape[:-1], 1, dtype=m.dtype)
    return ember.cat([m, pad], -1)
