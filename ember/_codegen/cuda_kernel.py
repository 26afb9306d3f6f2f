"""Running generated kernels on CuPy arrays: CUDA C (``cuda_emit``) through NVRTC.

NOTE [ Generated kernels on the GPU ]
``ElementwiseKernel``/``StagedKernel`` calls whose arrays are CuPy arrays come here (the
host path's plan cache is keyed on NumPy arrays, so the check costs the CPU nothing). The
plan mirrors the C path's: broadcast, collapse dimensions every operand walks alike, pick
the ``flat`` variant when one dimension is left; the shape and byte strides go to the
device once per plan (cached with the compiled function, keyed by shapes, strides and
dtypes). Sources compile through CuPy's ``RawKernel`` (NVRTC, cached by CuPy on disk by
source). Launch: ``cuda_emit.THREADS`` threads per block; elementwise grids cover the
problem up to ``MAX_BLOCKS`` blocks (the grid-stride loop does the rest), staged grids one
block per kept row up to ``MAX_BLOCKS``.

Untested on a GPU in the session that wrote it (no device was lent): the sources are
compile-checked with nvcc and NVRTC on the CPU (``tests/test_cuda_cpu_side.py``), the
launches only by ``scripts/gpu_check.sh``.
"""

from __future__ import annotations

import numpy as np

from ember._codegen import cuda_emit

MAX_BLOCKS = 8192


def is_device_array(a) -> bool:
    """Whether ``a`` is a CuPy array (without importing CuPy).

    Example::

        >>> is_device_array(np.ones(2))
        False
    """
    return type(a).__module__.startswith("cupy")


def _cp():
    from ember._backends import cupy_backend

    if not cupy_backend.load():
        raise RuntimeError(f"generated CUDA kernels need CuPy and a GPU "
                           f"({cupy_backend.unavailable_reason()})")
    return cupy_backend.cp


def _compile(k, key, name, make):
    fns = k.__dict__.setdefault("_cuda_fns", {})
    fn = fns.get(key)
    if fn is None:
        cp = _cp()
        fn = fns[key] = cp.RawKernel(cuda_emit.PRELUDE + make(), name,
                                     options=("--std=c++17",))
    return fn


def _check_inputs(k, arrays):
    if k.fallback_reason is not None:
        raise NotImplementedError(f"{k.kind}: this program has no CUDA form "
                                  f"({k.fallback_reason}); the NumPy executor is host-only")
    if len(arrays) != len(k.inputs):
        raise TypeError(f"{k.kind}: expected {len(k.inputs)} input arrays, got {len(arrays)}")
    for (name, dt), a in zip(k.inputs, arrays):
        if not is_device_array(a):
            raise TypeError(f"{k.kind}: input {name!r} is a host array while others are on "
                            "the GPU")
        if a.dtype != dt:
            raise TypeError(f"{k.kind}: input {name!r} must be {dt}, got {a.dtype} "
                            f"(shape {a.shape})")


def _outs(k, cp, out, shapes):
    if out is None:
        return [cp.empty(s, dt) for s, dt in zip(shapes, k.out_dtypes)]
    if len(out) != len(shapes):
        raise TypeError(f"{k.kind}: expected {len(shapes)} out arrays, got {len(out)}")
    for o, s, dt in zip(out, shapes, k.out_dtypes):
        if not is_device_array(o) or o.shape != tuple(s) or o.dtype != dt:
            raise ValueError(f"{k.kind}: out arrays must be {dt} CuPy arrays of shape "
                             f"{tuple(s)}")
    return list(out)


def _key(arrays, outs):
    return tuple((a.shape, a.strides, a.dtype.str) for a in list(arrays) + list(outs))


def elementwise_plan(k, arrays, outs, shape):
    """How to launch elementwise kernel ``k`` on ``arrays``/``outs`` (any objects with
    ``shape``, ``strides``, ``itemsize``): ``{"name", "make" (-> source), "nd", "shape",
    "strides" (int64 lists), "total", "grid"}``."""
    from ember._codegen.kernel import _bstrides, _collapse

    total = 1
    for s in shape:
        total *= s
    sizes, strides = _collapse(list(shape) or [1],
                               [_bstrides(a, shape) or [0] for a in list(arrays) + list(outs)])
    if not sizes:
        sizes, strides = [1], [[0] for _ in strides]
    nin = len(arrays)
    flat = len(sizes) == 1
    items = [a.itemsize for a in arrays] + [o.itemsize for o in outs]
    modes = "".join("1" if st[-1] == sz else "0" if st[-1] == 0 and j < nin else "g"
                    for j, (st, sz) in enumerate(zip(strides, items)))
    name = f"ember_cuew_{modes}" if flat else "ember_cuew_nd"
    return {"name": name, "key": (flat, modes if flat else None), "nd": len(sizes),
            "make": lambda: cuda_emit.emit_elementwise(k.program, name, modes, flat=flat),
            "shape": sizes, "strides": [s for st in strides for s in st], "total": total,
            "grid": min(MAX_BLOCKS, -(-total // cuda_emit.THREADS))}


def staged_plan(k, arrays, outs, shape, axes):
    """How to launch staged kernel ``k``: ``{"name", "make", "shape", "strides", "K", "R",
    "grid"}`` (``shape``: kept then reduced collapsed sizes)."""
    from ember._codegen.kernel import _bstrides, _collapse

    nd = len(shape)
    kept = [d for d in range(nd) if d not in axes]
    R = K = 1
    for d in axes:
        R *= shape[d]
    for d in kept:
        K *= shape[d]
    bst = [_bstrides(a, shape) for a in arrays]
    for n, a, st in zip(k.program.inputs, arrays, bst):
        if not n.full and any(st[d] and shape[d] != 1 for d in axes):
            raise ValueError(f"{k.kind}: row input {n.name!r} of shape {a.shape} varies "
                             f"over the reduced axes {axes} of {shape}")
    for o, f in zip(outs, k._full):
        if f:
            bst.append(list(o.strides))
        else:
            st = o.reshape(tuple(1 if d in axes else shape[d] for d in range(nd))).strides
            bst.append([0 if d in axes else st[d] for d in range(nd)])
    ks, kst = _collapse([shape[d] for d in kept], [[st[d] for d in kept] for st in bst])
    rs, rst = _collapse([shape[d] for d in axes], [[st[d] for d in axes] for st in bst])
    if not ks:
        ks, kst = [1], [[0] for _ in bst]
    if not rs:
        rs, rst = [1 if R else 0], [[0] for _ in bst]
    nk, nr = len(ks), len(rs)
    name = f"ember_cust_{nk}_{nr}"
    return {"name": name, "key": ("staged", nk, nr),
            "make": lambda: cuda_emit.emit_staged(k.program, name, nk, nr),
            "shape": ks + rs, "strides": [s for a, b in zip(kst, rst) for s in a + b],
            "K": K, "R": R, "grid": min(K, MAX_BLOCKS)}


def run_elementwise(k, arrays, out=None):
    """Run elementwise kernel ``k`` on CuPy ``arrays``; returns the output arrays."""
    cp = _cp()
    _check_inputs(k, arrays)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    outs = _outs(k, cp, out, [shape] * len(k.out_dtypes))
    if 0 in shape:
        return outs
    plans = k.__dict__.setdefault("_cuda_plans", {})
    key = _key(arrays, outs)
    plan = plans.get(key)
    if plan is None:
        pl = elementwise_plan(k, arrays, outs, shape)
        fn = _compile(k, pl["key"], pl["name"], pl["make"])
        plan = plans[key] = (fn, pl["nd"], cp.asarray(np.array(pl["shape"], np.int64)),
                             cp.asarray(np.array(pl["strides"], np.int64)), pl["total"],
                             pl["grid"])
    fn, nd, shp, stv, total, grid = plan
    fn((grid,), (cuda_emit.THREADS,),
       (np.int64(total), np.int32(nd), shp, stv, *arrays, *outs))
    return outs


def run_staged(k, arrays, out=None):
    """Run staged kernel ``k`` on CuPy ``arrays``; returns the output arrays."""
    cp = _cp()
    _check_inputs(k, arrays)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    nd = len(shape)
    axes = k._axes(nd)
    kept = [d for d in range(nd) if d not in axes]
    red_shape = tuple(1 if d in axes else shape[d] for d in range(nd)) if k.keepdim \
        else tuple(shape[d] for d in kept)
    shapes = [shape if f else red_shape for f in k._full]
    R = 1
    for d in axes:
        R *= shape[d]
    if R == 0 and any(n.op in ("max", "min") for n in k.program.nodes):
        raise ValueError(f"{k.kind}: zero-size reduction of shape {shape} over axes {axes} "
                         "with max/min, which has no identity")
    outs = _outs(k, cp, out, shapes)
    if any(shape[d] == 0 for d in kept):
        return outs
    plans = k.__dict__.setdefault("_cuda_plans", {})
    key = _key(arrays, outs)
    plan = plans.get(key)
    if plan is None:
        pl = staged_plan(k, arrays, outs, shape, axes)
        fn = _compile(k, pl["key"], pl["name"], pl["make"])
        plan = plans[key] = (fn, cp.asarray(np.array(pl["shape"], np.int64)),
                             cp.asarray(np.array(pl["strides"], np.int64)), pl["K"], pl["R"],
                             pl["grid"])
    fn, shp, stv, K, R, grid = plan
    fn((grid,), (cuda_emit.THREADS,), (np.int64(K), np.int64(R), shp, stv, *arrays, *outs))
    return outs
