"""The CUDA dialect: kernel IR -> CUDA C for NVRTC (CuPy's RawKernel) or nvcc.

NOTE [ CUDA kernels ]
The same typed programs as the C dialect (NOTE [ Kernel IR ]), with the same per-operation
C expressions (``c_emit.op_expr``: NumPy's NaN, integer-wrap and cast semantics spelled
out), so the two dialects agree by construction; only the loops differ.

- Elementwise: one thread per element in a grid-stride loop (``for (i = global id; i <
  total; i += grid size)``), so any grid size covers any problem. Two variants, like the
  C dialect's: ``flat`` (the operands collapse to one dimension; each is contiguous
  ``p[i]``, broadcast (read once) or strided) and ``nd`` (the flat index is split into
  coordinates by division, byte offsets summed per operand).
- Staged (reductions with an elementwise prologue and epilogue: sum/mean, softmax, layer
  norm, cross-entropy): one block of ``THREADS`` threads per kept row, rows in a
  grid-stride loop. For each reduction stage every thread folds a strided slice of the row
  into its accumulator, then a shared-memory tree reduction (a fixed pairing, so results
  do not depend on timing) combines the block's accumulators and every thread reads the
  total back; row values (``mean``, ``1/sqrt(var + eps)``) are then computed by every
  thread, full-size outputs written in a last strided pass, row outputs by thread 0.
  Accumulators are the C dialect's (double for float sums and means).

The prelude makes the source self-contained under NVRTC, which has no C library headers:
fixed-width integer types, the integer limits, ``INFINITY``/``NAN``; nvcc (the compile
check in ``tests/test_cuda_cpu_side.py``) takes the ``<stdint.h>`` branch. The C dialect's
helpers (float32 ``erf``/``exp``/``tanh``, NumPy's ``remainder``) become ``__device__``
functions, so float32 results match the CPU kernels' to the same few ulp.
"""

from __future__ import annotations

import re

from ember._codegen import c_emit
from ember._codegen.c_emit import (_acc_final, _acc_init, _acc_type, _acc_update, _closure,
                                   _Names, _value_code, check, ctype)
from ember._codegen.ir import REDUCTIONS

THREADS = 256  # threads per block (a power of two: the tree reduction halves it)
MAX_DIMS = c_emit.MAX_DIMS

_HEADER = r"""
#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#define INT32_MIN (-2147483647 - 1)
#define INT32_MAX 2147483647
#define INT64_MIN (-9223372036854775807LL - 1)
#define INT64_MAX 9223372036854775807LL
#else
#include <stdint.h>
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif
"""


def _device_helpers():
    """The C prelude's helper functions as ``__device__`` functions."""
    src = c_emit.PRELUDE
    start = src.index("/* erf for float32")
    body = src[start:]
    return re.sub(r"\bstatic inline\b", "static __device__ __forceinline__", body)


PRELUDE = _HEADER + _device_helpers()


def _load(k, mode, t, off):
    if mode == "1":
        return f"(({t}*)p{k})[i]"
    if mode == "0":
        return f"*({t}*)p{k}"
    return f"*({t}*)(p{k} + {off})"


def _params(nops):
    return ", ".join(f"char *__restrict__ p{k}" for k in range(nops))


# ----------------------------------------------------------------------- elementwise
def emit_elementwise(program, name, modes, flat=True):
    """CUDA source of elementwise kernel ``name``.

    Args:
        program: a parsed :class:`~ember._codegen.ir.Program`.
        name: the ``extern "C"`` symbol.
        modes: one letter per operand (inputs then outputs) for the ``flat`` variant:
            ``'1'`` contiguous, ``'0'`` broadcast, ``'g'`` strided (ignored when not flat).
        flat: the one-dimensional variant; else offsets come from ``nd`` coordinates.

    Signature: ``(int64_t total, int nd, const int64_t *shape, const int64_t *strides,
    char *p0, ...)``: ``strides`` holds ``nd`` byte strides per operand.

    Returns:
        str: the kernel's source (without :data:`PRELUDE`).

    Example::

        >>> from ember._codegen.ir import parse_program
        >>> p = parse_program([("x", "float32")], [("y", "x * 2")], [("y", "float32")])
        >>> "__global__" in emit_elementwise(p, "k", "11")
        True
    """
    check(program)
    ins, outs = program.inputs, program.outputs
    nops = len(ins) + len(outs)
    if not flat:
        modes = "g" * nops
    L = []
    w = L.append
    w(f'extern "C" __global__ void {name}(const int64_t total, const int nd, '
      f"const int64_t *__restrict__ shape, const int64_t *__restrict__ strides, "
      f"{_params(nops)}) {{")
    w("    const int64_t step = (int64_t)blockDim.x * gridDim.x;")
    w("    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; "
      "i += step) {")
    if flat:
        offs = [f"i * strides[{k}]" for k in range(nops)]
    else:
        for k in range(nops):
            w(f"        int64_t o{k} = 0;")
        w("        int64_t rem = i;")
        w("        for (int d = nd - 1; d >= 0; d--) {")
        w("            const int64_t ix = rem % shape[d];")
        w("            rem /= shape[d];")
        for k in range(nops):
            w(f"            o{k} += ix * strides[{k} * nd + d];")
        w("        }")
        offs = [f"o{k}" for k in range(nops)]
    names = _Names()
    body = []
    for k, n in enumerate(ins):
        t = ctype(n.dtype)
        body.append(f"        const {t} v{n.id} = {_load(k, modes[k], t, offs[k])};")
        names.var[n.id] = f"v{n.id}"
    for n in _closure([o for o, _ in outs], lambda n: n.op == "input"):
        if n.op == "const" and n.dtype is None:
            continue
        _value_code(n, names, body, "        ")
    for j, (o, dt) in enumerate(outs):
        k = len(ins) + j
        t = ctype(dt)
        dst = f"(({t}*)p{k})[i]" if modes[k] == "1" else f"*({t}*)(p{k} + {offs[k]})"
        body.append(f"        {dst} = {names.arg(o, dt)};")
    L.extend(body)
    w("    }")
    w("}")
    return "\n".join(L)


# ----------------------------------------------------------------------- staged
def _combine(red, dst, src):
    """Statements folding accumulator ``src`` into ``dst`` (same type)."""
    k = red.loop[0].kind
    if red.op in ("sum", "mean"):
        return f"{dst} += {src};"
    if red.op == "prod":
        return f"{dst} *= {src};"
    if k == "b":
        return f"{dst} {'|' if red.op == 'max' else '&'}= {src};"
    cmp = ">" if red.op == "max" else "<"
    return f"{dst} = {src} {cmp} {dst} ? {src} : {dst};"


def _has_nan_flag(red):
    return red.op in ("max", "min") and red.loop[0].kind == "f"


def emit_staged(program, name, nk, nr):
    """CUDA source of a staged (multi-pass reduction) kernel: one block per kept row.

    Args:
        program: a parsed staged :class:`~ember._codegen.ir.Program`.
        name: the ``extern "C"`` symbol.
        nk, nr: kept and reduced dimensions after collapsing (``nr >= 1``).

    Signature: ``(int64_t K, int64_t R, const int64_t *shape, const int64_t *strides,
    char *p0, ...)``: ``shape`` holds the ``nk + nr`` sizes (kept first), ``strides``
    ``nk + nr`` byte strides per operand (0 along reduced dims for row outputs); launch
    with :data:`THREADS` threads per block.

    Returns:
        str: the kernel's source (without :data:`PRELUDE`).

    Example::

        >>> from ember._codegen.ir import parse_program
        >>> p = parse_program([("x", "float32")], [("s", "sum(x)"), ("y", "x / s")],
        ...                   [("y", "float32")], staged=True)
        >>> "__syncthreads" in emit_staged(p, "k", 1, 1)
        True
    """
    check(program)
    ins, outs = program.inputs, program.outputs
    nops = len(ins) + len(outs)
    nd = nk + nr
    reds = [n for n in program.nodes if n.op in REDUCTIONS]
    full_outs = [(j, o, dt) for j, (o, dt) in enumerate(outs) if o.full]
    row_outs = [(j, o, dt) for j, (o, dt) in enumerate(outs) if not o.full]
    L = []
    w = L.append
    w(f'extern "C" __global__ void __launch_bounds__({THREADS}) {name}(const int64_t K, '
      f"const int64_t R, const int64_t *__restrict__ shape, "
      f"const int64_t *__restrict__ strides, {_params(nops)}) {{")
    for r in reds:
        w(f"    __shared__ {_acc_type(r)} sh{r.id}[{THREADS}];")
        if _has_nan_flag(r):
            w(f"    __shared__ int shn{r.id}[{THREADS}];")
    w("    const int tid = threadIdx.x;")
    w("    for (int64_t kk = blockIdx.x; kk < K; kk += gridDim.x) {")
    w("        int64_t rem = kk;")
    for k in range(nops):
        w(f"        char *b{k} = p{k};")
    for d in range(nk - 1, -1, -1):
        w(f"        {{ const int64_t ix = rem % shape[{d}]; rem /= shape[{d}];")
        for k in range(nops):
            w(f"          b{k} += ix * strides[{k * nd + d}];")
        w("        }")
    names = _Names()
    for k, n in enumerate(ins):
        names.var[n.id] = f"v{n.id}"
        if not n.full:  # a row input: one value per kept index
            w(f"        const {ctype(n.dtype)} v{n.id} = *({ctype(n.dtype)}*)b{k};")

    def row_values(level):
        for n in program.nodes:
            if n.full or n.level != level or n.op == "input":
                continue
            if n.op == "const" and n.dtype is None:
                continue
            if n.op in REDUCTIONS:
                w(f"        const {ctype(n.dtype)} v{n.id} = "
                  f"{_acc_final(n, f'a{n.id}', 'R')};")
                names.var[n.id] = f"v{n.id}"
            else:
                lines = []
                _value_code(n, names, lines, "        ")
                L.extend(lines)

    def row_walk(reds_here, full_here):
        """Each thread walks reduced indices tid, tid + THREADS, ...: folds ``reds_here``
        into its accumulators and writes the full outputs ``full_here``."""
        roots = [r.args[0] for r in reds_here] + [o for _, o, _ in full_here]
        need = _closure(roots, lambda n: not n.full or n.op == "input")
        used = {n.id for n in need} | {a.id for n in need for a in n.args} | \
            {o.id for o in roots}
        inner = _Names()
        inner.var = dict(names.var)
        w(f"        for (int64_t r = tid; r < R; r += {THREADS}) {{")
        if nr == 1:
            offs = [f"r * strides[{k * nd + nk}]" for k in range(nops)]
        else:
            for k in range(nops):
                w(f"            int64_t o{k} = 0;")
            w("            int64_t rr = r;")
            for d in range(nd - 1, nk - 1, -1):
                w(f"            {{ const int64_t ix = rr % shape[{d}]; rr /= shape[{d}];")
                for k in range(nops):
                    w(f"              o{k} += ix * strides[{k * nd + d}];")
                w("            }")
            offs = [f"o{k}" for k in range(nops)]
        lines = []
        for k, n in enumerate(ins):
            if n.full and n.id in used:
                t = ctype(n.dtype)
                lines.append(f"            const {t} v{n.id} = *({t}*)(b{k} + {offs[k]});")
        for n in need:
            if n.op == "rindex":
                lines.append(f"            const int64_t v{n.id} = r;")
                inner.var[n.id] = f"v{n.id}"
            elif n.op != "input":
                _value_code(n, inner, lines, "            ")
        L.extend(lines)
        for r in reds_here:
            w("            " + _acc_update(r, f"a{r.id}", inner.arg(r.args[0], r.loop[0])))
        for j, o, dt in full_here:
            k = len(ins) + j
            t = ctype(dt)
            w(f"            *({t}*)(b{k} + {offs[k]}) = {inner.arg(o, dt)};")
        w("        }")

    def block_reduce(reds_here):
        for r in reds_here:
            w(f"        sh{r.id}[tid] = a{r.id};")
            if _has_nan_flag(r):
                w(f"        shn{r.id}[tid] = a{r.id}_nan;")
        w("        __syncthreads();")
        w(f"        for (int s = {THREADS // 2}; s > 0; s >>= 1) {{")
        w("            if (tid < s) {")
        for r in reds_here:
            w(f"                {_combine(r, f'sh{r.id}[tid]', f'sh{r.id}[tid + s]')}")
            if _has_nan_flag(r):
                w(f"                shn{r.id}[tid] |= shn{r.id}[tid + s];")
        w("            }")
        w("            __syncthreads();")
        w("        }")
        for r in reds_here:
            w(f"        a{r.id} = sh{r.id}[0];")
            if _has_nan_flag(r):
                w(f"        a{r.id}_nan = shn{r.id}[0];")
        w("        __syncthreads();")

    row_values(0)
    for lv in range(1, program.levels + 1):
        here = [r for r in reds if r.level == lv]
        for r in here:
            w(f"        {_acc_type(r)} a{r.id} = {_acc_init(r)};")
            if _has_nan_flag(r):
                w(f"        int a{r.id}_nan = 0;")
        row_walk(here, [])
        block_reduce(here)
        row_values(lv)
    if full_outs:
        row_walk([], full_outs)
    if row_outs:
        w("        if (tid == 0) {")
        for j, o, dt in row_outs:
            k = len(ins) + j
            w(f"            *({ctype(dt)}*)b{k} = {names.arg(o, dt)};")
        w("        }")
    w("    }")
    w("}")
    return "\n".join(L)
