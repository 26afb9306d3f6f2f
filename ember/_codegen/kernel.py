"""Kernel objects: argument checks, broadcasting and strides, C or NumPy execution."""

from __future__ import annotations

import ctypes
import os
import warnings

import numpy as np

from ember._codegen import build, c_emit, numpy_exec
from ember._codegen.ir import KernelError, Unsupported, parse_program

_WARNED = []
_THREADS = [None]
_I64P = ctypes.POINTER(ctypes.c_int64)


def get_num_threads():
    """Threads the generated kernels use (``OMP_NUM_THREADS``, else the CPU count, until
    :func:`set_num_threads`)."""
    n = _THREADS[0]
    if n is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        try:
            n = max(1, int(env.split(",")[0]))
        except ValueError:
            n = os.cpu_count() or 1
        _THREADS[0] = n
    return n


def set_num_threads(n):
    """Use ``n`` threads in generated kernels (``ember.set_num_threads`` calls this)."""
    _THREADS[0] = max(1, int(n))


def disabled():
    """Whether ``EMBER_JIT_DISABLE`` turns compilation off (any value but "" and "0")."""
    return os.environ.get("EMBER_JIT_DISABLE", "0") not in ("", "0")


def _warn_no_compiler(reason):
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn(f"ember: generated kernels run on the NumPy executor ({reason}); "
                      "install a C compiler with OpenMP for the fast path", RuntimeWarning,
                      stacklevel=4)


def _addr(a):
    return a.__array_interface__["data"][0]


def _collapse(sizes, strides):
    """Drop size-1 dims and merge neighbours every operand walks contiguously."""
    keep = [i for i, s in enumerate(sizes) if s != 1]
    sizes = [sizes[i] for i in keep]
    strides = [[st[i] for i in keep] for st in strides]
    i = len(sizes) - 2
    while i >= 0:
        if all(st[i] == st[i + 1] * sizes[i + 1] for st in strides):
            sizes[i] *= sizes[i + 1]
            del sizes[i + 1]
            for st in strides:
                st[i] = st[i] * 0 + st[i + 1]
                del st[i + 1]
        i -= 1
    return sizes, strides


def _bstrides(a, shape):
    """Byte strides of ``a`` broadcast to ``shape`` (0 along broadcast dims)."""
    nd = len(shape)
    st = [0] * (nd - a.ndim) + list(a.strides)
    sh = (1,) * (nd - a.ndim) + a.shape
    return [0 if sh[i] == 1 and shape[i] != 1 else st[i] for i in range(nd)]


class _Kernel:
    kind = "kernel"

    def __init__(self, inputs, body, outputs, staged):
        self.inputs = [(n, np.dtype(d)) for n, d in inputs]
        self.program = parse_program(inputs, body, outputs, staged=staged)
        self.out_dtypes = [dt for _, dt in self.program.outputs]
        self.fallback_reason = None
        try:
            c_emit.check(self.program)
        except Unsupported as e:
            self.fallback_reason = str(e)
        self._fns = {}

    @property
    def backend(self):
        """``"c"`` when calls run compiled C, ``"numpy"`` when they run the NumPy executor."""
        if self.fallback_reason is not None or disabled():
            return "numpy"
        path, _ = build.compiler()
        return "c" if path is not None else "numpy"

    def _arrays(self, arrays):
        if len(arrays) != len(self.inputs):
            raise TypeError(f"{self.kind}: expected {len(self.inputs)} input arrays "
                            f"({', '.join(n for n, _ in self.inputs)}), got {len(arrays)}")
        res = []
        for (name, dt), a in zip(self.inputs, arrays):
            if type(a) is not np.ndarray:
                a = np.asarray(a, dtype=dt)
            elif a.dtype != dt:
                raise TypeError(f"{self.kind}: input {name!r} must be {dt}, got {a.dtype} "
                                f"(shape {a.shape})")
            res.append(a)
        return res

    def _outs(self, out, shapes):
        if out is None:
            return [np.empty(s, dt) for s, dt in zip(shapes, self.out_dtypes)]
        if len(out) != len(shapes):
            raise TypeError(f"{self.kind}: expected {len(shapes)} out arrays, got {len(out)}")
        for o, s, dt in zip(out, shapes, self.out_dtypes):
            if type(o) is not np.ndarray or o.shape != tuple(s) or o.dtype != dt or \
                    not o.flags.c_contiguous or not o.flags.writeable:
                raise ValueError(f"{self.kind}: out arrays must be writeable C-contiguous "
                                 f"{dt} arrays of shape {tuple(s)}, got "
                                 f"{getattr(o, 'dtype', type(o).__name__)} "
                                 f"{getattr(o, 'shape', '')}")
        return list(out)

    def _use_c(self):
        if self.fallback_reason is not None or disabled():
            return False
        path, reason = build.compiler()
        if path is None:
            _warn_no_compiler(reason)
            return False
        return True

    def _function(self, key, make_source, name):
        fn = self._fns.get(key)
        if fn is None:
            src = c_emit.PRELUDE + make_source()
            try:
                lib = build.load(src)
            except build.CompilerMissing as e:
                _warn_no_compiler(str(e).splitlines()[0])
                self.fallback_reason = str(e)
                return None
            fn = getattr(lib, name)
            fn.restype = None
            self._fns[key] = fn
        return fn

    def source(self, *args):
        """The C source of one variant (for inspection)."""
        raise NotImplementedError


class ElementwiseKernel(_Kernel):
    """A compiled elementwise program; see :func:`ember._codegen.elementwise_kernel`."""

    kind = "elementwise_kernel"

    def __init__(self, inputs, body, outputs):
        super().__init__(inputs, body, outputs, staged=False)

    def __call__(self, arrays, out=None):
        arrays = self._arrays(arrays)
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ValueError(f"{self.kind}: input shapes "
                             f"{[a.shape for a in arrays]} do not broadcast") from None
        outs = self._outs(out, [shape] * len(self.out_dtypes))
        if 0 in shape:
            return outs
        if not self._use_c():
            return self._numpy(arrays, outs)
        sizes, strides = _collapse(list(shape) or [1], [_bstrides(a, shape) or [0]
                                                        for a in arrays + outs])
        if not sizes:
            sizes, strides = [1], [[0] for _ in strides]
        if len(sizes) > c_emit.MAX_DIMS:
            return self._numpy(arrays, outs)
        nin = len(arrays)
        modes = "".join(("1" if st[-1] == a.itemsize else "0" if st[-1] == 0 and k < nin
                         else "g") for k, (st, a) in enumerate(zip(strides, arrays + outs)))
        fn = self._function(modes, lambda: c_emit.emit_elementwise(
            self.program, "ember_ew_" + modes, modes), "ember_ew_" + modes)
        if fn is None:
            return self._numpy(arrays, outs)
        nd = len(sizes)
        shp = np.array(sizes, np.int64)
        stv = np.array([s for st in strides for s in st], np.int64)
        ptrs = np.array([_addr(a) for a in arrays + outs], np.uintp)
        fn(ctypes.c_int64(nd), ctypes.c_void_p(_addr(shp)), ctypes.c_void_p(_addr(stv)),
           ctypes.c_void_p(_addr(ptrs)), ctypes.c_int64(get_num_threads()))
        return outs

    def _numpy(self, arrays, outs):
        vals = numpy_exec.evaluate(self.program, arrays)
        for o, v in zip(outs, vals):
            np.copyto(o, np.asarray(v).astype(o.dtype, copy=False), casting="unsafe")
        return outs

    def source(self, modes=None):
        modes = modes or "1" * (len(self.inputs) + len(self.out_dtypes))
        return c_emit.PRELUDE + c_emit.emit_elementwise(self.program, "ember_ew_" + modes,
                                                        modes)


class StagedKernel(_Kernel):
    """A compiled staged reduction program; see :func:`ember._codegen.staged_kernel`."""

    kind = "staged_kernel"

    def __init__(self, inputs, body, outputs, axis=-1, keepdim=False):
        super().__init__(inputs, body, outputs, staged=True)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) else tuple(axis)
            if not all(isinstance(d, int) for d in axis):
                raise KernelError(f"{self.kind}: axis must be None, an int or a tuple of ints")
        self.axis, self.keepdim = axis, bool(keepdim)

    def _axes(self, nd):
        if self.axis is None:
            return tuple(range(nd))
        axes = []
        for d in self.axis:
            if not -max(nd, 1) <= d < max(nd, 1):
                raise IndexError(f"{self.kind}: axis {d} out of range for {nd}-d inputs")
            d = d % max(nd, 1)
            if d in axes:
                raise ValueError(f"{self.kind}: axis {d} repeated")
            axes.append(d)
        return tuple(sorted(d for d in axes if d < nd))

    def __call__(self, arrays, out=None):
        arrays = self._arrays(arrays)
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ValueError(f"{self.kind}: input shapes "
                             f"{[a.shape for a in arrays]} do not broadcast") from None
        nd = len(shape)
        axes = self._axes(nd)
        kept = [d for d in range(nd) if d not in axes]
        red_shape = tuple(1 if d in axes else shape[d] for d in range(nd)) if self.keepdim \
            else tuple(shape[d] for d in kept)
        full = [o.full for o, _ in self.program.outputs]
        outs = self._outs(out, [shape if f else red_shape for f in full])
        R = 1
        for d in axes:
            R *= shape[d]
        if R == 0 and any(n.op in ("max", "min") for n in self.program.nodes):
            raise ValueError(f"{self.kind}: zero-size reduction of shape {shape} over axes "
                             f"{axes} with max/min, which has no identity")
        if 0 in [shape[d] for d in kept]:
            return outs
        if not self._use_c():
            return self._numpy(arrays, outs, axes, shape)
        ops = arrays + outs
        bst = [_bstrides(a, shape) for a in arrays]
        for o, f in zip(outs, full):
            if f:
                bst.append(list(o.strides))
            else:
                full_view = o.reshape(tuple(1 if d in axes else shape[d] for d in range(nd)))
                st = list(full_view.strides)
                bst.append([0 if d in axes else st[d] for d in range(nd)])
        ks, kst = _collapse([shape[d] for d in kept], [[st[d] for d in kept] for st in bst])
        rs, rst = _collapse([shape[d] for d in axes], [[st[d] for d in axes] for st in bst])
        if not ks:
            ks, kst = [1], [[0] for _ in bst]
        if not rs:
            rs, rst = [1 if R else 0], [[0] for _ in bst]
        if len(ks) + len(rs) > c_emit.MAX_DIMS:
            return self._numpy(arrays, outs, axes, shape)
        nk, nr = len(ks), len(rs)
        nin = len(arrays)
        modes = "".join(("1" if st[-1] == a.itemsize else "0" if st[-1] == 0 and k < nin
                         else "g") for k, (st, a) in enumerate(zip(rst, ops)))
        chunked = c_emit.chunkable(self.program) and R >= 4 * c_emit.BLOCK
        name = f"ember_st_{nk}_{nr}_{modes}_{int(chunked)}"
        fn = self._function((nk, nr, modes, chunked), lambda: c_emit.emit_staged(
            self.program, name, nk, nr, modes, chunked), name)
        if fn is None:
            return self._numpy(arrays, outs, axes, shape)
        K = 1
        for s in ks:
            K *= s
        nred = sum(1 for n in self.program.nodes if n.op in c_emit.REDUCTIONS)
        nch = -(-R // c_emit.BLOCK) if chunked else 0
        scratch = np.empty(max(1, K * nch * nred * 2), np.int64)
        shp = np.array(ks + rs, np.int64)
        stv = np.array([s for a, b in zip(kst, rst) for s in a + b], np.int64)
        ptrs = np.array([_addr(a) for a in ops], np.uintp)
        fn(ctypes.c_void_p(_addr(shp)), ctypes.c_void_p(_addr(stv)),
           ctypes.c_void_p(_addr(ptrs)), ctypes.c_int64(get_num_threads()),
           ctypes.c_void_p(_addr(scratch)))
        return outs

    def _numpy(self, arrays, outs, axes, shape):
        vals = numpy_exec.evaluate(self.program, arrays, axes, shape)
        for o, v, (node, _) in zip(outs, vals, self.program.outputs):
            v = np.asarray(v)
            if not node.full:
                v = np.broadcast_to(v, tuple(1 if d in axes else shape[d]
                                             for d in range(len(shape))))
                v = v.reshape(o.shape)
            else:
                v = np.broadcast_to(v, shape)
            np.copyto(o, v.astype(o.dtype, copy=False), casting="unsafe")
        return outs

    def source(self, nk=1, nr=1, modes=None, chunked=False):
        modes = modes or "1" * (len(self.inputs) + len(self.out_dtypes))
        return c_emit.PRELUDE + c_emit.emit_staged(self.program, "ember_st", nk, nr, modes,
                                                   chunked)
