"""Kernels behind eager's memory-bound composite ops (GELU, layer norm, softmax,
cross-entropy, batch norm, RNN gates, Adam).

NOTE [ Eager ops on generated kernels ]
Each function here takes the raw arrays of a record's forward (or first-order backward)
and returns its results computed by one generated kernel, or ``None`` when the kernels do
not cover the call: arrays that are not host NumPy arrays (other backends keep their
forwards), dtypes other than float32/float64, or kernels running on the NumPy executor
(``EMBER_JIT_DISABLE=1``, no compiler) — then the record's own NumPy code runs, which is
faster than the executor. The programs spell out the NumPy forwards they replace
operation by operation (same literals, same dtypes), so results match them up to the
rounding of transcendental functions and the order of sums. Kernels are built on first
use (``cached``) and then come from the process cache; compiled objects from the disk
cache (NOTE [ Kernel cache ]).
"""

from __future__ import annotations

import math

import numpy as np

from ember._codegen import elementwise_kernel, staged_kernel
from ember._codegen.kernel import disabled

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_NAME = {d: d.name for d in _FLOATS}  # (``dtype.name`` costs ~1 us a call)
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _ok(*arrays):
    """Whether the generated kernels take these arrays (host NumPy, one float dtype)."""
    dt = arrays[0].dtype
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dt:
            return False
    return dt in _FLOATS and not disabled()


_K = {}


def _kernel(key, make):
    """The kernel ``make()`` builds, built once per process under ``key``."""
    k = _K.get(key)
    if k is None:
        k = _K[key] = make()
    return k


def _run(k, arrays, out=None):
    if k.backend != "c":
        return None
    return k(arrays, out=out)


# ----------------------------------------------------------------------------- GELU
def _gelu_prog(approx):
    if approx == "tanh":
        return [("inner", f"(x + x * x * x * 0.044715) * {_SQRT_2_PI!r}"),
                ("y", "x * 0.5 * (1 + tanh(inner))")]
    return [("y", f"x * 0.5 * (1 + erf(x / {_SQRT_2!r}))")]


def _gelu_bwd_prog(approx):
    if approx == "tanh":
        return [("x2", "x * x"), ("t", f"tanh((x + x2 * x * 0.044715) * {_SQRT_2_PI!r})"),
                ("d", f"0.5 * (1 + t) + 0.5 * x * (1 - t * t) * {_SQRT_2_PI!r} * "
                      "(1 + 3 * 0.044715 * x2)"),
                ("gx", "g * d")]
    return [("d", f"0.5 * (1 + erf(x / {_SQRT_2!r})) + x * exp(-0.5 * x * x) * "
                  f"{_INV_SQRT_2PI!r}"),
            ("gx", "g * d")]


def _gpu_ok(*arrays):
    """Whether these are CuPy arrays of one float dtype: the generated kernel runs on the
    GPU through NVRTC (NOTE [ Generated kernels on the GPU ]); checked only after the
    host test failed, so the CPU path pays nothing."""
    dt = arrays[0].dtype
    for a in arrays:
        if not type(a).__module__.startswith("cupy") or a.dtype != dt:
            return False
    return dt in _FLOATS and not disabled()


def gelu(x, approx):
    """GELU forward (``approximate`` = ``"none"`` or ``"tanh"``) or None."""
    gpu = False
    if not _ok(x):
        if not _gpu_ok(x):
            return None
        gpu = True
    dt = _NAME[x.dtype]
    k = _kernel(("gelu", approx, dt), lambda: elementwise_kernel(
        [("x", dt)], _gelu_prog(approx), [("y", dt)]))
    r = k([x]) if gpu else _run(k, [x])
    return None if r is None else r[0]


def gelu_backward(g, x, approx):
    """``g * gelu'(x)`` or None."""
    gpu = False
    if not _ok(g, x):
        if not _gpu_ok(g, x):
            return None
        gpu = True
    dt = _NAME[x.dtype]
    k = _kernel(("gelu_backward", approx, dt), lambda: elementwise_kernel(
        [("g", dt), ("x", dt)], _gelu_bwd_prog(approx), [("gx", dt)]))
    r = k([g, x]) if gpu else _run(k, [g, x])
    return None if r is None else r[0]


# ----------------------------------------------------------------------------- ReLU
# ReLU and its gradient are one memory-bound pass each; NumPy runs them on one core. On
# large tensors (a CNN's first activations: LeNet's are 1.4M floats) the generated kernel
# splits them over the OpenMP threads; below RELU_MIN elements the callers keep NumPy's
# ufunc, which has less fixed cost. Same results bit for bit: maximum(x, 0) keeps NaN (and
# -0.0) as NumPy's does, and the gradient selects g or an exact +0.0 (no multiply, so inf
# or NaN in g at masked positions give 0, as masked_select_zero).
RELU_MIN = 1 << 17


def relu(x):
    """``maximum(x, 0)`` of a large float array, or None."""
    if not _ok(x):
        return None
    dt = _NAME[x.dtype]
    k = _kernel(("relu", dt), lambda: elementwise_kernel(
        [("x", dt)], [("y", "maximum(x, 0)")], [("y", dt)]))
    r = _run(k, [x])
    return None if r is None else r[0]


def relu_backward(g, y):
    """``g`` where ``y > 0`` else 0, or None."""
    if not _ok(g, y):
        return None
    dt = y.dtype.name
    k = _kernel(("relu_backward", dt), lambda: elementwise_kernel(
        [("g", dt), ("y", dt)], [("gx", "where(y > 0, g, 0)")], [("gx", dt)]))
    r = _run(k, [g, y])
    return None if r is None else r[0]


# ----------------------------------------------------------------------------- layer norm
def layer_norm(x, w, b, k, eps):
    """``(y, mean, invstd)`` of layer norm over the last ``k`` dims (``w``/``b`` may be None),
    mean and invstd with kept size-1 dims, or None."""
    arrays = [x] + [a for a in (w, b) if a is not None]
    if not _ok(*arrays) or x.ndim < k or x.size == 0:
        return None
    dt = _NAME[x.dtype]
    key = ("layer_norm", dt, k, eps, w is not None, b is not None)

    def make():
        ins = [("x", dt)] + [(n, dt) for n, a in (("w", w), ("b", b)) if a is not None]
        y = "xc * invstd" + (" * w" if w is not None else "") + (" + b" if b is not None
                                                                   else "")
        body = [("mean", "mean(x)"), ("xc", "x - mean"),
                ("invstd", f"1.0 / sqrt(mean(xc * xc) + {float(eps)!r})"), ("y", y)]
        return staged_kernel(ins, body, [("y", dt), ("mean", dt), ("invstd", dt)],
                             axis=tuple(range(-k, 0)), keepdim=True)

    return _run(_kernel(key, make), arrays)


def layer_norm_backward(g, x, mean, invstd, w, k, need_gx, need_gdx):
    """``(gx, g * xhat)`` of layer norm (either None when not needed), or None."""
    arrays = [g, x, mean, invstd] + ([w] if w is not None else [])
    if not _ok(*arrays) or not (need_gx or need_gdx) or x.size == 0:
        return None
    dt = _NAME[x.dtype]
    key = ("layer_norm_backward", dt, k, w is not None, need_gx, need_gdx)

    def make():
        ins = [("g", dt), ("x", dt), ("mean", dt), ("invstd", dt)] + \
            ([("w", dt)] if w is not None else [])
        body = [("xhat", "(x - mean) * invstd"), ("gdx", "g * xhat"),
                ("gxhat", "g * w" if w is not None else "g"),
                ("m1", "mean(gxhat)"), ("m2", "mean(gxhat * xhat)"),
                ("gx", "(gxhat - m1 - xhat * m2) * invstd")]
        outs = ([("gx", dt)] if need_gx else []) + ([("gdx", dt)] if need_gdx else [])
        return staged_kernel(ins, body, outs, axis=tuple(range(-k, 0)), keepdim=True)

    r = _run(_kernel(key, make), arrays)
    if r is None:
        return None
    return (r[0] if need_gx else None), (r[-1] if need_gdx else None)


# ----------------------------------------------------------------------------- softmax
def softmax(x, dim, log=False):
    """softmax (``log``: log_softmax) of ``x`` along ``dim`` or None."""
    if not _ok(x) or x.size == 0:
        return None
    dt = _NAME[x.dtype]
    key = ("log_softmax" if log else "softmax", dt, dim % x.ndim if x.ndim else 0, x.ndim)

    def make():
        if log:
            body = [("m", "max(x)"), ("s", "x - m"), ("y", "s - log(sum(exp(s)))")]
        else:
            body = [("m", "max(x)"), ("e", "exp(x - m)"), ("y", "e / sum(e)")]
        return staged_kernel([("x", dt)], body, [("y", dt)],
                             axis=(dim % x.ndim,) if x.ndim else None)

    r = _run(_kernel(key, make), [x])
    return None if r is None else r[0]


# ----------------------------------------------------------------------------- cross-entropy
def cross_entropy(x, tc):
    """``(-log_softmax(x)[i, tc[i]] per row, softmax(x))`` of (M, C) logits and (M,) int64
    class indices (already checked and clamped), or None."""
    if not _ok(x) or x.ndim != 2 or x.size == 0 or type(tc) is not np.ndarray:
        return None
    dt = _NAME[x.dtype]

    def make():
        body = [("m", "max(x)"), ("e", "exp(x - m)"), ("s", "sum(e)"),
                ("nll", "log(s) - (xt - m)"), ("prob", "e / s")]
        return staged_kernel([("x", dt), ("xt", dt, "row")], body,
                             [("nll", dt), ("prob", dt)], axis=-1)

    # the target logit is a gather of M values, done before the kernel
    xt = np.take_along_axis(x, tc.astype(np.int64, copy=False)[:, None], axis=1)
    return _run(_kernel(("cross_entropy", dt), make), [x, xt])


def cross_entropy_backward(prob, gw, tc):
    """Write ``softmax - one_hot`` scaled by the row weights ``gw`` over ``prob`` (M, C);
    False when the kernels do not cover the call."""
    if not _ok(prob, gw) or prob.ndim != 2 or not prob.flags.c_contiguous or \
            type(tc) is not np.ndarray:
        return False
    dt = prob.dtype.name

    def make():
        body = [("pg", "p * g"), ("gx", "where(rindex == t, pg - g, pg)")]
        return staged_kernel([("p", dt), ("g", dt), ("t", "int64")], body, [("gx", dt)],
                             axis=-1)

    r = _run(_kernel(("cross_entropy_backward", dt), make),
             [prob, gw[:, None], tc.astype(np.int64, copy=False)[:, None]], out=[prob])
    return r is not None


# ----------------------------------------------------------------------------- batch norm
def _bn_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(a, nd):
    return a.reshape((1, -1) + (1,) * (nd - 2))


def batch_norm(x, w, b, eps):
    """``(y, mean, var, invstd)`` of training-mode batch norm over ``(N, C, *)`` (statistics
    with shape ``(1, C, 1, ...)``; ``w``/``b`` (C,) or None), or None."""
    arrays = [x] + [_per_channel(a, x.ndim) for a in (w, b) if a is not None]
    if not _ok(*arrays) or x.ndim < 2 or x.size == 0:
        return None
    dt = _NAME[x.dtype]
    key = ("batch_norm", dt, x.ndim, eps, w is not None, b is not None)

    def make():
        ins = [("x", dt)] + [(n, dt) for n, a in (("w", w), ("b", b)) if a is not None]
        y = "xc * invstd" + (" * w" if w is not None else "") + (" + b" if b is not None
                                                                   else "")
        body = [("mean", "mean(x)"), ("xc", "x - mean"), ("var", "mean(xc * xc)"),
                ("invstd", f"1.0 / sqrt(var + {float(eps)!r})"), ("y", y)]
        return staged_kernel(ins, body, [("y", dt), ("mean", dt), ("var", dt),
                                         ("invstd", dt)], axis=_bn_axes(x), keepdim=True)

    return _run(_kernel(key, make), arrays)


def batch_norm_backward(g, x, mean, invstd, w, need_gx):
    """``(gx or None, sum(g * xhat), sum(g))`` per channel (shape ``(1, C, 1, ...)``) of
    training-mode batch norm, or None."""
    arrays = [g, x, mean, invstd] + ([_per_channel(w, x.ndim)] if w is not None else [])
    if not _ok(*arrays) or x.ndim < 2 or x.size == 0:
        return None
    dt = _NAME[x.dtype]
    key = ("batch_norm_backward", dt, x.ndim, w is not None, need_gx)

    def make():
        ins = [("g", dt), ("x", dt), ("mean", dt), ("invstd", dt)] + \
            ([("w", dt)] if w is not None else [])
        scale = "invstd * w" if w is not None else "invstd"
        # dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat))
        body = [("xhat", "(x - mean) * invstd"), ("gxhat", "g * xhat"),
                ("gsum", "sum(g)"), ("gxhat_sum", "sum(gxhat)"),
                ("gx", f"(g - mean(g) - xhat * mean(gxhat)) * ({scale})")]
        outs = ([("gx", dt)] if need_gx else []) + [("gxhat_sum", dt), ("gsum", dt)]
        return staged_kernel(ins, body, outs, axis=_bn_axes(x), keepdim=True)

    r = _run(_kernel(key, make), arrays)
    if r is None:
        return None
    return (r[0] if need_gx else None), r[-2], r[-1]


# ----------------------------------------------------------------------------- Adam / AdamW
def adam_step(x, g, m, v, vmax, consts, small, amsgrad, maximize, wd_mode):
    """One parameter's Adam/AdamW update in place (``x``, ``m``, ``v``, ``vmax``), the same
    operation sequence as ``_fused_adam_fwd``. ``consts``: 0-d arrays of ``x``'s dtype
    (``w``, ``beta2``, ``1 - beta2``, ``eps``, ``sqrt(bias_correction2)``, ``-step_size``,
    ``1 - lr * weight_decay``, ``weight_decay``); ``wd_mode``: None, "coupled" or
    "decoupled". False when the kernels do not cover the call."""
    arrays = [x, g, m, v] + ([vmax] if amsgrad else [])
    if not _ok(*arrays) or x.ndim == 0:
        return False
    for a in arrays:
        if a.shape != x.shape or not a.flags.c_contiguous:
            return False
    if not (x.flags.writeable and m.flags.writeable and v.flags.writeable):
        return False
    dt = _NAME[x.dtype]
    key = ("adam", dt, small, amsgrad, maximize, wd_mode)

    def make():
        names = ["w", "b2", "omb2", "eps", "bc2s", "nss", "decay", "wd"]
        ins = [(n, dt) for n in ["x", "g", "m", "v"] + (["vmax"] if amsgrad else []) + names]
        body = [("xd", "x * decay" if wd_mode == "decoupled" else "x"),
                ("g1", "-g" if maximize else "g"),
                ("gg", "g1 + xd * wd" if wd_mode == "coupled" else "g1"),
                ("tmp", "(gg - m) * w"),
                ("m2", "m + tmp" if small else "gg - tmp"),
                ("v2", "v * b2 + (gg * omb2) * gg"),
                ("vv", "maximum(vmax, v2)" if amsgrad else "v2"),
                ("x2", "xd + (m2 * nss) / (sqrt(vv) / bc2s + eps)")]
        outs = [("x2", dt), ("m2", dt), ("v2", dt)] + ([("vv", dt)] if amsgrad else [])
        return elementwise_kernel(ins, body, outs)

    k = _kernel(key, make)
    if k.backend != "c":
        return False
    k(arrays + list(consts), out=[x, m, v] + ([vmax] if amsgrad else []))
    return True


# ----------------------------------------------------------------------------- RNN gates
def _sig(v):
    # the records' sigmoid: tanh(x * 0.5) * 0.5 + 0.5
    return f"tanh(({v}) * 0.5) * 0.5 + 0.5"


def lstm_cell(xg, hg, c, a, cn, tc, hn):
    """One LSTM step's gate math: pre-activations ``xg + hg`` (n, 4 hs; gate order i, f, g,
    o; ``hg`` may also be gate-major, (4, n, hs)) and the cell ``c`` (n, hs) -> activations
    into ``a`` (n, 4 hs), the new cell into ``cn``, its tanh into ``tc`` and the hidden
    state into ``hn`` (all written in place). False when the kernels do not cover the
    call."""
    if not _ok(xg, hg, c, a, cn, tc, hn) or xg.shape[0] == 0:
        return False
    dt = xg.dtype.name
    hs = c.shape[1]

    def make():
        ins = [(f"{p}{q}", dt) for p in "xh" for q in "ifgo"] + [("c", dt)]
        body = [("i", _sig("xi + hi")), ("f", _sig("xf + hf")), ("g", "tanh(xg + hg)"),
                ("o", _sig("xo + ho")), ("cn", "f * c + i * g"), ("tc", "tanh(cn)"),
                ("hn", "o * tc")]
        return elementwise_kernel(ins, body, [(n, dt) for n in
                                              ("i", "f", "g", "o", "cn", "tc", "hn")])

    k = _kernel(("lstm_cell", dt), make)
    if k.backend != "c":
        return False
    gates = [xg[:, j * hs:(j + 1) * hs] for j in range(4)] + \
        ([hg[j] for j in range(4)] if hg.ndim == 3 else
         [hg[:, j * hs:(j + 1) * hs] for j in range(4)])
    k(gates + [c], out=[a[:, j * hs:(j + 1) * hs] for j in range(4)] + [cn, tc, hn])
    return True


def gru_cell(x, gh, h, a, hn):
    """One GRU step's gate math: input part ``x`` and recurrent part ``gh`` (n, 3 hs; gate
    order r, z, n) and the state ``h`` -> activations into ``a`` (n, 3 hs) and the new state
    into ``hn``. False when the kernels do not cover the call."""
    if not _ok(x, gh, h, a, hn) or x.shape[0] == 0:
        return False
    dt = _NAME[x.dtype]
    hs = h.shape[1]

    def make():
        ins = [(n, dt) for n in ("xr", "xz", "xn", "hr", "hz", "hn", "h")]
        body = [("r", _sig("xr + hr")), ("z", _sig("xz + hz")),
                ("nn", "tanh(xn + r * hn)"), ("out", "nn + z * (h - nn)")]
        return elementwise_kernel(ins, body, [(n, dt) for n in ("r", "z", "nn", "out")])

    k = _kernel(("gru_cell", dt), make)
    if k.backend != "c":
        return False
    parts = [x[:, j * hs:(j + 1) * hs] for j in range(3)] + \
        [gh[:, j * hs:(j + 1) * hs] for j in range(3)]
    k(parts + [h], out=[a[:, j * hs:(j + 1) * hs] for j in range(3)] + [hn])
    return True


def lstm_cell_backward(dh, dc, a, tc, cp, dgates, dcn):
    """One LSTM step's gate gradients: from ``dh`` (the hidden-state gradient after any
    projection), ``dc``, the saved activations ``a`` (n, 4 hs), ``tc`` (tanh of the cell)
    and the previous cell ``cp``, write the gate gradients into ``dgates`` (n, 4 hs) and
    the previous cell's gradient into ``dcn`` (may be ``dc`` itself). False when the kernels
    do not cover the call."""
    if not _ok(dh, dc, a, tc, cp, dgates, dcn) or dh.shape[0] == 0:
        return False
    dt = dh.dtype.name
    hs = tc.shape[1]

    def make():
        ins = [(n, dt) for n in ("dh", "dc", "i", "f", "g", "o", "tc", "cp")]
        body = [("dct", "dc + dh * o * (1 - tc * tc)"), ("di", "dct * g * i * (1 - i)"),
                ("df", "dct * cp * f * (1 - f)"), ("dg", "dct * i * (1 - g * g)"),
                ("do", "dh * tc * o * (1 - o)"), ("dcn", "dct * f")]
        return elementwise_kernel(ins, body, [(n, dt) for n in
                                              ("di", "df", "dg", "do", "dcn")])

    k = _kernel(("lstm_cell_backward", dt), make)
    if k.backend != "c":
        return False
    gates = [a[:, j * hs:(j + 1) * hs] for j in range(4)]
    k([dh, dc] + gates + [tc, cp],
      out=[dgates[:, j * hs:(j + 1) * hs] for j in range(4)] + [dcn])
    return True


def gru_cell_backward(dh, a, hp, ghn, dx, dgh):
    """One GRU step's gate gradients: from ``dh``, the saved activations ``a`` (n, 3 hs:
    r, z, n), the previous state ``hp`` and the recurrent part ``ghn`` of the new gate,
    write the input-side gradients into ``dx`` and the recurrent-side ones into ``dgh``
    (both n, 3 hs). False when the kernels do not cover the call."""
    if not _ok(dh, a, hp, ghn, dx, dgh) or dh.shape[0] == 0:
        return False
    dt = dh.dtype.name
    hs = hp.shape[1]

    def make():
        ins = [(n, dt) for n in ("dh", "r", "z", "nn", "hp", "ghn")]
        body = [("dn", "dh * (1 - z) * (1 - nn * nn)"), ("dz", "dh * (hp - nn) * z * (1 - z)"),
                ("dr", "dn * ghn * r * (1 - r)"), ("dnr", "dn * r")]
        return elementwise_kernel(ins, body, [(n, dt) for n in
                                              ("dr", "dz", "dn", "dr", "dz", "dnr")])

    k = _kernel(("gru_cell_backward", dt), make)
    if k.backend != "c":
        return False
    parts = [a[:, j * hs:(j + 1) * hs] for j in range(3)]
    k([dh] + parts + [hp, ghn], out=[dx[:, j * hs:(j + 1) * hs] for j in range(3)] +
      [dgh[:, j * hs:(j + 1) * hs] for j in range(3)])
    return True
