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


def _after_fork_in_child():
    # GNU OpenMP's thread pool does not survive fork(): a forked child (a DataLoader
    # worker) that entered a parallel region the parent had used could hang, so children
    # run kernels on one thread unless they call set_num_threads themselves.
    _THREADS[0] = 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_DISABLED = [os.environ.get("EMBER_JIT_DISABLE", "0") not in ("", "0")]


def disabled():
    """Whether compilation is off: ``EMBER_JIT_DISABLE`` (any value but "" and "0", read at
    import) or :func:`set_disabled`."""
    return _DISABLED[0]


def c_library(src, void_functions):
    """A loader for the hand-written C library ``src``: each call returns the library (built
    on the first call, then kept; from the disk cache when built before), or None when
    compilation is off (:func:`disabled`) or no compiler is found. ``void_functions`` names
    the library's functions that return nothing (ctypes would read an int otherwise)."""
    from ember._codegen import build

    kept = []

    def load():
        if disabled():
            return None
        if not kept:
            try:
                lib = build.load(src)
            except build.CompilerMissing:
                lib = None
            if lib is not None:
                for name in void_functions:
                    getattr(lib, name).restype = None
            kept.append(lib)
        return kept[0]

    return load


def set_disabled(flag):
    """Turn compilation off (True: every kernel runs on the NumPy executor) or back on;
    returns the previous setting."""
    old = _DISABLED[0]
    _DISABLED[0] = bool(flag)
    return old


def _warn_no_compiler(reason):
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn(f"ember: generated kernels run on the NumPy executor ({reason}); "
                      "install a C compiler with OpenMP for the fast path", RuntimeWarning,
                      stacklevel=4)


def _addr(a):
    return a.__array_interface__["data"][0]


def _data_offset():
    """Byte offset of the data pointer inside a NumPy array object (right after the object
    header in NumPy's public ``PyArrayObject_fields``), checked on arrays here; -1 when it
    cannot be confirmed, and then kernels get data pointers (slower to gather)."""
    import sys

    if sys.implementation.name != "cpython":
        return -1
    probes = [np.empty(3), np.empty((4, 4), np.float32)[1:, ::2], np.empty(0), np.float64(1)]
    probes = [p for p in probes if type(p) is np.ndarray]
    for off in (16, 24, 32, 40):
        if all(ctypes.c_void_p.from_address(id(p) + off).value == _addr(p) for p in probes):
            return off
    return -1


_OFF = _data_offset()
_OFF_C = ctypes.c_int64(_OFF)

# NOTE [ A C entry for kernel launches ]
# A threaded elementwise op's fixed cost was ~4 us above PyTorch's at every size (1e6 float32
# neg into a fixed output: 49.5 us against 44.7, in place 28 against 24); half of it was the
# launch through ctypes: a ctypes array of the operands built per call, six ctypes arguments
# converted, ~2.1 us for a kernel doing 0.1 us of work. ``_LAUNCH_SRC`` is a small CPython
# extension whose ``launch(fn, nd, shape, strides, operands, off, nthreads)`` takes plain
# ints and the operand tuple, puts the objects' addresses on its stack and calls the kernel
# with the GIL released, as ctypes did (~0.3 us). It is built like a kernel (NOTE [ Kernel
# cache ]) against this interpreter's headers (``build.load_extension``); where those are
# missing, or the array object's layout is not confirmed (``_OFF`` < 0), launches stay on
# ctypes, with the same results.
_LAUNCH_SRC = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef void (*ember_ew_fn)(int64_t, const int64_t *, const int64_t *, void *const *,
                            int64_t, int64_t);

static PyObject *launch(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 7 || !PyTuple_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "launch(fn, nd, shape, strides, operands: tuple, off, nthreads)");
        return NULL;
    }
    ember_ew_fn fn = (ember_ew_fn)PyLong_AsVoidPtr(args[0]);
    int64_t nd = PyLong_AsLongLong(args[1]);
    const int64_t *shape = (const int64_t *)PyLong_AsVoidPtr(args[2]);
    const int64_t *strides = (const int64_t *)PyLong_AsVoidPtr(args[3]);
    int64_t off = PyLong_AsLongLong(args[5]), nt = PyLong_AsLongLong(args[6]);
    Py_ssize_t n = PyTuple_GET_SIZE(args[4]);
    if (PyErr_Occurred())
        return NULL;
    if (n > 32 || fn == NULL) {
        PyErr_SetString(PyExc_ValueError, "launch: at most 32 operands and a function");
        return NULL;
    }
    void *objs[32];
    for (Py_ssize_t i = 0; i < n; i++)
        objs[i] = (void *)PyTuple_GET_ITEM(args[4], i);  /* kept alive by the tuple */
    Py_BEGIN_ALLOW_THREADS
    fn(nd, shape, strides, objs, off, nt);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"launch", (PyCFunction)(void (*)(void))launch, METH_FASTCALL, "Run a kernel."},
    {NULL, NULL, 0, NULL}
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ember_launch", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ember_launch(void) { return PyModule_Create(&module); }
"""
_LAUNCH = []  # [the extension's launch, or None], tried once per process


def _c_launch():
    """The C entry of NOTE [ A C entry for kernel launches ], or None (ctypes then)."""
    if not _LAUNCH:
        mod = build.load_extension("_ember_launch", _LAUNCH_SRC) if _OFF >= 0 else None
        _LAUNCH.append(getattr(mod, "launch", None))
    return _LAUNCH[0]
_VP = ctypes.c_void_p


def data_ptr(a):
    """The data pointer of host array ``a`` as a ``ctypes.c_void_p``, for hand-written C
    functions: read straight from the array object (~0.15 us; ``a.ctypes.data`` costs ~1 us)
    where its layout was confirmed (NOTE [ Lean kernel calls ]). Use it at once, while ``a``
    is alive.

    Args:
        a: a NumPy array.

    Returns:
        A ``ctypes.c_void_p`` holding ``a``'s data address.

    Example:
        >>> import numpy as np
        >>> x = np.zeros(4)
        >>> data_ptr(x).value == x.ctypes.data
        True
    """
    if _OFF >= 0:
        return _VP.from_address(id(a) + _OFF)
    return _VP(a.ctypes.data)


_THREADS_C = {}


def _threads_c():
    """``get_num_threads()`` as a ``ctypes.c_int64`` (one object per count, kept)."""
    n = get_num_threads()
    c = _THREADS_C.get(n)
    if c is None:
        c = _THREADS_C[n] = ctypes.c_int64(n)
    return c


def _objects(objs_t, ops):
    """The operand list a kernel reads (``EMBER_DATA`` in c_emit) as the plan's ctypes array
    type ``objs_t``: the array objects, or their data pointers when the object layout is not
    confirmed (NOTE [ Lean kernel calls ])."""
    return objs_t(*map(id, ops)) if _OFF >= 0 else objs_t(*map(_addr, ops))


class _Pinned:
    """An int64 array passed to ctypes by its address (kept alive with it)."""

    __slots__ = ("arr", "_as_parameter_")

    def __init__(self, arr):
        self.arr = arr
        self._as_parameter_ = ctypes.c_void_p(_addr(arr))


def _signature(arrays, dts):
    """A plan-cache key: shapes and strides of host arrays of the declared dtypes (None:
    take the checking path)."""
    if len(arrays) != len(dts):
        return None
    key = []
    for a, dt in zip(arrays, dts):
        if type(a) is not np.ndarray or a.dtype != dt:
            return None
        key.append(a.shape)
        key.append(a.strides)
    return tuple(key)


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


def _on_gpu(arrays):
    """Whether a kernel call's arrays are CuPy arrays (checked off the cached host path)."""
    return any(type(a).__module__.startswith("cupy") for a in arrays)


# EMBER_KERNEL_LOG=path: append every kernel program built in this process to ``path`` as
# a JSON line (the CUDA compile check in tests/test_cuda_cpu_side.py replays them).
_LOG = os.environ.get("EMBER_KERNEL_LOG")


def _log_program(inputs, body, outputs, staged):
    import json

    rec = {"inputs": [[str(x) for x in i] for i in inputs],
           "body": [list(b) for b in body],
           "outputs": [[o[0], str(np.dtype(o[1]))] for o in outputs], "staged": staged}
    with open(_LOG, "a") as f:
        f.write(json.dumps(rec) + "\n")


class _Kernel:
    kind = "kernel"

    def __init__(self, inputs, body, outputs, staged):
        self.inputs = [(i[0], np.dtype(i[1])) for i in inputs]
        self.program = parse_program(inputs, body, outputs, staged=staged)
        if _LOG:
            _log_program(inputs, body, outputs, staged)
        self.out_dtypes = [dt for _, dt in self.program.outputs]
        self.fallback_reason = None
        try:
            c_emit.check(self.program)
        except Unsupported as e:
            self.fallback_reason = str(e)
        self._fns = {}
        self._plans = {}
        self._dts = [dt for _, dt in self.inputs]

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
        if out is not None and self.kind == "staged_kernel" and not all(
                getattr(o, "flags", None) is not None and o.flags.c_contiguous for o in out):
            raise ValueError(f"{self.kind}: out arrays must be C-contiguous")
        if out is None:
            return [np.empty(s, dt) for s, dt in zip(shapes, self.out_dtypes)]
        if len(out) != len(shapes):
            raise TypeError(f"{self.kind}: expected {len(shapes)} out arrays, got {len(out)}")
        for o, s, dt in zip(out, shapes, self.out_dtypes):
            if type(o) is not np.ndarray or o.shape != tuple(s) or o.dtype != dt or \
                    not o.flags.writeable:
                raise ValueError(f"{self.kind}: out arrays must be writeable "
                                 f"{dt} arrays of shape {tuple(s)}, got "
                                 f"{getattr(o, 'dtype', type(o).__name__)} "
                                 f"{getattr(o, 'shape', '')}")
        return list(out)

    def _c_allowed(self):
        return self.fallback_reason is None and not disabled()

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
        key = _signature(arrays, self._dts)
        if key is not None and out is not None:
            key += tuple(getattr(o, "strides", None) for o in out)
        plan = self._plans.get(key) if key is not None else None
        if plan is None:
            if key is None and _on_gpu(arrays):  # NOTE [ Generated kernels on the GPU ]
                from ember._codegen import cuda_kernel

                return cuda_kernel.run_elementwise(self, arrays, out)
            arrays = self._arrays(arrays)
            plan = self._plan(arrays, out)
            if key is not None and (plan[0] is not None or not disabled()):
                self._plans[key] = plan
        if plan[0] is None or not self._c_allowed():
            shape = plan[1]
            outs = self._outs(out, [shape] * len(self.out_dtypes))
            if 0 in shape:
                return outs
            return self._numpy(self._arrays(arrays), outs)
        fn, shape, nd, shp, stv, objs_t = plan[:6]
        if out is None:
            outs = [np.empty(shape, dt) for dt in self.out_dtypes]
        else:
            outs = self._outs(out, [shape] * len(self.out_dtypes))
        # NOTE [ Lean kernel calls ]: the function has no argtypes and every argument is a
        # ctypes object already (ctypes' per-call argtypes conversion cost ~1 us of a
        # small call's ~6), and the operand array's type is the plan's
        cl = plan[6]
        if cl is not None:
            cl[0](cl[1], cl[2], cl[3], cl[4], (*arrays, *outs), _OFF, _THREADS[0] or
                  get_num_threads())
        else:
            fn(nd, shp, stv, _objects(objs_t, (*arrays, *outs)), _OFF_C, _threads_c())
        return outs

    def launcher(self, arrays, out=None):
        """A function ``launch(arrays, outs)`` running this kernel on arrays (and outputs) of
        the same dtypes, shapes and strides as these, with no checks (NOTE [ Kernel
        launchers ]), or None where such calls would not run compiled C. Call it only after
        one checked call with these arrays, and only while compilation stays allowed."""
        key = _signature(arrays, self._dts)
        if key is not None and out is not None:
            key += tuple(getattr(o, "strides", None) for o in out)
        plan = self._plans.get(key) if key is not None else None
        if plan is None or plan[0] is None or not self._c_allowed():
            return None
        fn, _, nd, shp, stv, objs_t, cl = plan
        if cl is not None:  # NOTE [ A C entry for kernel launches ]
            go, f, n, sa, ta = cl

            def launch(arrays, outs, _keep=(shp, stv)):  # (_keep: the shape/stride arrays)
                go(f, n, sa, ta, (*arrays, *outs), _OFF, _THREADS[0] or get_num_threads())

            return launch

        def launch(arrays, outs):
            fn(nd, shp, stv, _objects(objs_t, (*arrays, *outs)), _OFF_C, _threads_c())

        return launch

    def _plan(self, arrays, out=None):
        """``(fn, shape, nd, shape array, stride array)`` for arrays (and outputs) of these
        shapes and strides, or ``(None, shape)`` for the NumPy executor."""
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise ValueError(f"{self.kind}: input shapes "
                             f"{[a.shape for a in arrays]} do not broadcast") from None
        if 0 in shape or not self._use_c():
            return None, shape
        outs = self._outs(out, [shape] * len(self.out_dtypes))  # (for their strides)
        sizes, strides = _collapse(list(shape) or [1], [_bstrides(a, shape) or [0]
                                                        for a in arrays + outs])
        if not sizes:
            sizes, strides = [1], [[0] for _ in strides]
        if len(sizes) > c_emit.MAX_DIMS:
            return None, shape
        nin = len(arrays)
        modes = "".join(("1" if st[-1] == a.itemsize else "0" if st[-1] == 0 and k < nin
                         else "g") for k, (st, a) in enumerate(zip(strides, arrays + outs)))
        fn = self._function(modes, lambda: c_emit.emit_elementwise(
            self.program, "ember_ew_" + modes, modes), "ember_ew_" + modes)
        if fn is None:
            return None, shape
        fn.argtypes = None  # NOTE [ Lean kernel calls ]: every argument a ctypes object
        shp = _Pinned(np.array(sizes, np.int64))
        stv = _Pinned(np.array([s for st in strides for s in st], np.int64))
        go = _c_launch()
        cl = None if go is None else (go, ctypes.cast(fn, ctypes.c_void_p).value, len(sizes),
                                      shp._as_parameter_.value, stv._as_parameter_.value)
        return (fn, shape, ctypes.c_int64(len(sizes)), shp, stv,
                ctypes.c_void_p * (len(arrays) + len(outs)), cl)

    def _numpy(self, arrays, outs):
        vals = numpy_exec.evaluate(self.program, arrays)
        for o, v in zip(outs, vals):
            np.copyto(o, np.asarray(v).astype(o.dtype, copy=False), casting="unsafe")
        return outs

    def source(self, modes=None):
        """The C source of the variant for innermost-dimension ``modes``."""
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
        self._full = [o.full for o, _ in self.program.outputs]
        self._nred = sum(1 for n in self.program.nodes if n.op in c_emit.REDUCTIONS)

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
        key = _signature(arrays, self._dts)
        if key is not None and out is not None:
            key += tuple(getattr(o, "strides", None) for o in out)
        plan = self._plans.get(key) if key is not None else None
        if plan is None:
            if key is None and _on_gpu(arrays):  # NOTE [ Generated kernels on the GPU ]
                from ember._codegen import cuda_kernel

                return cuda_kernel.run_staged(self, arrays, out)
            arrays = self._arrays(arrays)
            plan = self._plan(arrays, out)
            if key is not None and (plan[0] is not None or not disabled()):
                self._plans[key] = plan
        fn, shapes, rest = plan
        if fn is None or not self._c_allowed():
            outs = self._outs(out, shapes)
            if rest is None:
                return outs
            axes, shape = rest
            return self._numpy(self._arrays(arrays), outs, axes, shape)
        shp, stv, nscratch, objs_t = rest
        if out is None:
            outs = [np.empty(s, dt) for s, dt in zip(shapes, self.out_dtypes)]
        else:
            outs = self._outs(out, shapes)
        scratch = np.empty(nscratch, np.int64)
        fn(shp, stv, _objects(objs_t, (*arrays, *outs, scratch)), _OFF_C, _threads_c())
        return outs

    def _plan(self, arrays, out=None):
        """``(fn, output shapes, (shape array, stride array, scratch size))``, or ``(None,
        output shapes, (axes, shape) or None)`` for the NumPy executor (None: nothing to
        compute)."""
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
        shapes = [shape if f else red_shape for f in self._full]
        R = 1
        for d in axes:
            R *= shape[d]
        if R == 0 and any(n.op in ("max", "min") for n in self.program.nodes):
            raise ValueError(f"{self.kind}: zero-size reduction of shape {shape} over axes "
                             f"{axes} with max/min, which has no identity")
        bst = [_bstrides(a, shape) for a in arrays]
        for n, a, st in zip(self.program.inputs, arrays, bst):
            if not n.full and any(st[d] and shape[d] != 1 for d in axes):
                raise ValueError(f"{self.kind}: row input {n.name!r} of shape {a.shape} "
                                 f"varies over the reduced axes {axes} of {shape}")
        if 0 in [shape[d] for d in kept]:
            return None, shapes, None
        if not self._use_c():
            return None, shapes, (axes, shape)
        for o, f in zip(self._outs(out, shapes), self._full):
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
        if len(ks) + len(rs) > c_emit.MAX_DIMS:
            return None, shapes, (axes, shape)
        nk, nr = len(ks), len(rs)
        nin = len(arrays)
        sizes = [a.itemsize for a in arrays] + [dt.itemsize for dt in self.out_dtypes]
        modes = "".join(("1" if st[-1] == sz else "0" if st[-1] == 0 and k < nin
                         else "g") for k, (st, sz) in enumerate(zip(rst, sizes)))
        chunked = c_emit.chunkable(self.program) and R >= 4 * c_emit.BLOCK
        name = f"ember_st_{nk}_{nr}_{modes}_{int(chunked)}"
        fn = self._function((nk, nr, modes, chunked), lambda: c_emit.emit_staged(
            self.program, name, nk, nr, modes, chunked), name)
        if fn is None:
            return None, shapes, (axes, shape)
        fn.argtypes = None  # NOTE [ Lean kernel calls ]
        K = 1
        for s in ks:
            K *= s
        nch = -(-R // c_emit.BLOCK) if chunked else 0
        shp = np.array(ks + rs, np.int64)
        stv = np.array([s for a, b in zip(kst, rst) for s in a + b], np.int64)
        return fn, shapes, (_Pinned(shp), _Pinned(stv), max(1, K * nch * self._nred * 2),
                            ctypes.c_void_p * (len(arrays) + len(self.out_dtypes) + 1))

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
        """The C source of one variant (``nk`` kept and ``nr`` reduced dims)."""
        modes = modes or "1" * (len(self.inputs) + len(self.out_dtypes))
        return c_emit.PRELUDE + c_emit.emit_staged(self.program, "ember_st", nk, nr, modes,
                                                   chunked)
