"""Hand-written threaded C kernels for 2-D grid sampling (``grid_sample``'s forward and its
backward in the input and the grid), built and cached like the index kernels.

NOTE [ Grid-sample kernels ]
The NumPy form of ``grid_sample`` builds a dozen (N, C, Ho, Wo) temporaries (four corner
gathers, four weight products, the validity masks) and, with gradients, dispatches about
forty ember ops; at 1e3 elements that is ~30x PyTorch's time and at 1e6 ~4-6x. Here the work
is two passes over memory:

1. per output point ``q = (n, ho, wo)`` (threaded over ``q``): the source coordinates
   (unnormalised, reflected, clipped as PyTorch's ``grid_sampler_compute_source_index``,
   with the derivative multiplier of each transform for the backward), then the four corner
   offsets (``-1`` outside the image) and the four bilinear weights, stored once per point
   (int32 offsets: the image must have fewer than 2**31 pixels);
2. per channel plane ``(n, c)`` (threaded over planes and blocks of points): the output as
   ``nw*v_nw + ne*v_ne + sw*v_sw + se*v_se``, in that order, with out-of-image corners
   read as 0 (PyTorch's masked loads: a corner outside the image contributes nothing).

The backward scatters ``w * grad`` into the input's gradient one plane per thread (no two
threads write the same plane, so no atomics; within a plane points add in order), and forms
the grid's gradient per point, summing over channels, as PyTorch's
``grid_sampler_2d_backward`` (``d out / d ix`` from the corner values and the other axis'
weights, times the coordinate transform's multiplier). Nearest mode rounds half to even
(``nearbyint``) and has a zero grid gradient.

Results agree with PyTorch's to rounding (the weights are formed as PyTorch's are; the
unnormalisation is ``(g + 1) * ((size - 1) / 2)`` or ``((g + 1) * size - 1) / 2`` as the
NumPy form's). Functions return None where they do not apply (not host float32/float64
NumPy data, empty input, a huge image, no compiler, ``EMBER_JIT_DISABLE``): the caller
runs the NumPy/composite form.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_TEMPLATE = r"""
static inline $T $S_coord($T g, long size, int pad, int ac, $T* mult)
{
    $T c, m;
    if (ac) {
        m = ($T)(size - 1) / 2;
        c = (g + 1) * m;
    } else {
        m = ($T)size / 2;
        c = ((g + 1) * ($T)size - 1) / 2;
    }
    if (pad == 2) {  /* reflection, as PyTorch's reflect_coordinates_set_grad */
        $T lo2 = ac ? 0 : -1, hi2 = ac ? ($T)(2 * (size - 1)) : ($T)(2 * size - 1);
        if (lo2 == hi2) {
            c = 0;
            m = 0;
        } else {
            $T mn = lo2 / 2, span = (hi2 - lo2) / 2, s = 1;
            c -= mn;
            if (c < 0) {
                s = -1;
                c = -c;
            }
            $T extra = $FMOD(c, span), flips = $FLOOR(c / span);
            if ($FMOD(flips, 2) == 0) {
                c = extra + mn;
                m *= s;
            } else {
                c = span - extra + mn;
                m *= -s;
            }
        }
    }
    if (pad >= 1) {  /* border and reflection clip into [0, size - 1]; derivative 0 there */
        if (c <= 0) {
            c = 0;
            m = 0;
        } else if (c >= ($T)(size - 1)) {
            c = ($T)(size - 1);
            m = 0;
        }
    }
    *mult = m;
    return c;
}

/* pass 1: corner offsets (-1 outside), weights, fractions and multipliers of each point */
static void $S_points(const $T* grid, int* idx, $T* wts, $T* aux, long NP, long H, long W,
                      int mode, int pad, int ac, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long q = 0; q < NP; q++) {
        $T mx, my;
        $T ix = $S_coord(grid[2 * q], W, pad, ac, &mx);
        $T iy = $S_coord(grid[2 * q + 1], H, pad, ac, &my);
        int* ip = idx + 4 * q;
        $T* wp = wts + 4 * q;
        if (mode == 1) {
            $T rx = $RINT(ix), ry = $RINT(iy);
            ip[0] = (rx >= 0 && rx < ($T)W && ry >= 0 && ry < ($T)H)
                ? (int)((long)ry * W + (long)rx) : -1;
            continue;
        }
        $T x0 = $FLOOR(ix), y0 = $FLOOR(iy);
        $T fx = ix - x0, fy = iy - y0;
        int in_x0 = x0 >= 0 && x0 < ($T)W, in_x1 = x0 + 1 >= 0 && x0 + 1 < ($T)W;
        int in_y0 = y0 >= 0 && y0 < ($T)H, in_y1 = y0 + 1 >= 0 && y0 + 1 < ($T)H;
        long bx = (in_x0 || in_x1) ? (long)x0 : 0, by = (in_y0 || in_y1) ? (long)y0 : 0;
        ip[0] = in_y0 && in_x0 ? (int)(by * W + bx) : -1;
        ip[1] = in_y0 && in_x1 ? (int)(by * W + bx + 1) : -1;
        ip[2] = in_y1 && in_x0 ? (int)((by + 1) * W + bx) : -1;
        ip[3] = in_y1 && in_x1 ? (int)((by + 1) * W + bx + 1) : -1;
        wp[0] = (1 - fx) * (1 - fy);
        wp[1] = fx * (1 - fy);
        wp[2] = (1 - fx) * fy;
        wp[3] = fx * fy;
        if (aux) {
            aux[4 * q] = fx;
            aux[4 * q + 1] = fy;
            aux[4 * q + 2] = mx;
            aux[4 * q + 3] = my;
        }
    }
}

int $S_gs_fwd(const $T* x, const $T* grid, $T* out, long N, long C, long H, long W,
               long P, int mode, int pad, int ac, int nt)
{
    int* idx = malloc(sizeof(int) * 4 * N * P);
    $T* wts = malloc(sizeof($T) * 4 * N * P);
    if (!idx || !wts) {
        free(idx);
        free(wts);
        return 1;
    }
    $S_points(grid, idx, wts, 0, N * P, H, W, mode, pad, ac, nt);
    const long B = 2048, nb = (P + B - 1) / B, HW = H * W;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < N * C * nb; t++) {
        long nc = t / nb, p0 = (t % nb) * B, p1 = p0 + B < P ? p0 + B : P, n = nc / C;
        const $T* xp = x + nc * HW;
        $T* op = out + nc * P;
        const int* ip = idx + 4 * n * P;
        const $T* wp = wts + 4 * n * P;
        if (mode == 1) {
            for (long p = p0; p < p1; p++) {
                int k = ip[4 * p];
                op[p] = k >= 0 ? xp[k] : 0;
            }
        } else {
            for (long p = p0; p < p1; p++) {
                const int* k = ip + 4 * p;
                const $T* w = wp + 4 * p;
                $T v0 = k[0] >= 0 ? xp[k[0]] : 0, v1 = k[1] >= 0 ? xp[k[1]] : 0;
                $T v2 = k[2] >= 0 ? xp[k[2]] : 0, v3 = k[3] >= 0 ? xp[k[3]] : 0;
                op[p] = v0 * w[0] + v1 * w[1] + v2 * w[2] + v3 * w[3];
            }
        }
    }
    free(idx);
    free(wts);
    return 0;
}

/* gx (zeroed, may be 0: not wanted) and ggrid (may be 0) from the output gradient g */
int $S_gs_bwd(const $T* g, const $T* x, const $T* grid, $T* gx, $T* ggrid, long N, long C,
               long H, long W, long P, int mode, int pad, int ac, int nt)
{
    int* idx = malloc(sizeof(int) * 4 * N * P);
    $T* wts = malloc(sizeof($T) * 4 * N * P);
    $T* aux = malloc(sizeof($T) * 4 * N * P);
    if (!idx || !wts || !aux) {
        free(idx);
        free(wts);
        free(aux);
        return 1;
    }
    $S_points(grid, idx, wts, aux, N * P, H, W, mode, pad, ac, nt);
    const long HW = H * W;
    if (gx) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long nc = 0; nc < N * C; nc++) {
            long n = nc / C;
            $T* gp = gx + nc * HW;
            const $T* go = g + nc * P;
            const int* ip = idx + 4 * n * P;
            const $T* wp = wts + 4 * n * P;
            if (mode == 1) {
                for (long p = 0; p < P; p++)
                    if (ip[4 * p] >= 0) gp[ip[4 * p]] += go[p];
            } else {
                for (long p = 0; p < P; p++) {
                    const int* k = ip + 4 * p;
                    const $T* w = wp + 4 * p;
                    $T v = go[p];
                    if (k[0] >= 0) gp[k[0]] += w[0] * v;
                    if (k[1] >= 0) gp[k[1]] += w[1] * v;
                    if (k[2] >= 0) gp[k[2]] += w[2] * v;
                    if (k[3] >= 0) gp[k[3]] += w[3] * v;
                }
            }
        }
    }
    if (ggrid && mode == 1)
        for (long q = 0; q < 2 * N * P; q++) ggrid[q] = 0;
    if (ggrid && mode == 0) {
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long q = 0; q < N * P; q++) {
        long n = q / P, p = q % P;
        const int* k = idx + 4 * q;
        $T fx = aux[4 * q], fy = aux[4 * q + 1], ex = 1 - fx, ey = 1 - fy;
        $T gix = 0, giy = 0;
        for (long c = 0; c < C; c++) {
            const $T* xp = x + (n * C + c) * HW;
            $T go = g[(n * C + c) * P + p];
            if (k[0] >= 0) {
                $T v = xp[k[0]];
                gix -= v * ey * go;
                giy -= v * ex * go;
            }
            if (k[1] >= 0) {
                $T v = xp[k[1]];
                gix += v * ey * go;
                giy -= v * fx * go;
            }
            if (k[2] >= 0) {
                $T v = xp[k[2]];
                gix -= v * fy * go;
                giy += v * ex * go;
            }
            if (k[3] >= 0) {
                $T v = xp[k[3]];
                gix += v * fy * go;
                giy += v * fx * go;
            }
        }
        ggrid[2 * q] = aux[4 * q + 2] * gix;
        ggrid[2 * q + 1] = aux[4 * q + 3] * giy;
    }
    }
    free(idx);
    free(wts);
    free(aux);
    return 0;
}/* linear interpolation along one axis of x viewed as (outer, L, inner): output row j of
   each slice is w0[j] * x[i0[j]] + w1[j] * x[i1[j]] (rows of inner elements) */
void $S_lin_fwd(const $T* x, $T* y, long outer, long L, long inner, long O, const long* i0,
                const long* i1, const $T* w0, const $T* w1, int nt)
{
    if (inner == 1) {  /* the last axis: one task per slice, a gathering loop over it (a task
                          per output value cost a division and a call-sized loop each) */
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) {
            const $T* xs = x + o * L;
            $T* yr = y + o * O;
            #pragma omp simd
            for (long j = 0; j < O; j++) yr[j] = xs[i0[j]] * w0[j] + xs[i1[j]] * w1[j];
        }
        return;
    }
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < outer * O; t++) {
        long o = t / O, j = t % O;
        const $T* a = x + (o * L + i0[j]) * inner;
        const $T* b = x + (o * L + i1[j]) * inner;
        $T* yr = y + t * inner;
        $T u = w0[j], v = w1[j];
        for (long i = 0; i < inner; i++) yr[i] = a[i] * u + b[i] * v;
    }
}

/* its transpose: gx (zeroed) += the rows of g scattered back with their weights; threads
   split the slices, or column ranges when there are few slices (no two threads write the
   same element) */
void $S_lin_bwd(const $T* g, $T* gx, long outer, long L, long inner, long O, const long* i0,
                const long* i1, const $T* w0, const $T* w1, int nt)
{
    if (inner == 1) {  /* the last axis: one task per slice, its taps added in order */
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) {
            const $T* gr = g + o * O;
            $T* a = gx + o * L;
            for (long j = 0; j < O; j++) {
                a[i0[j]] += gr[j] * w0[j];
                a[i1[j]] += gr[j] * w1[j];
            }
        }
        return;
    }
    long nb = (outer >= 2L * nt || inner < 256L * nt) ? 1 : nt;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < outer * nb; t++) {
        long o = t / nb, b = t % nb;
        long c0 = inner * b / nb, c1 = inner * (b + 1) / nb;
        for (long j = 0; j < O; j++) {
            const $T* gr = g + (o * O + j) * inner;
            $T* a = gx + (o * L + i0[j]) * inner;
            $T* bb = gx + (o * L + i1[j]) * inner;
            $T u = w0[j], v = w1[j];
            for (long i = c0; i < c1; i++) a[i] += gr[i] * u;
            for (long i = c0; i < c1; i++) bb[i] += gr[i] * v;
        }
    }
}
"""


def _source():
    head = "#include <math.h>\n#include <stdlib.h>\n"
    parts = []
    for t, s, m in (("float", "f32", "f"), ("double", "f64", "")):
        parts.append(_TEMPLATE.replace("$T", t).replace("$S", s).replace(
            "$FMOD", "fmod" + m).replace("$FLOOR", "floor" + m).replace("$RINT", "nearbyint" + m))
    return head + "".join(parts)


_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_L = ctypes.c_long
_I = ctypes.c_int
_P = ctypes.c_void_p
_MODES = {"bilinear": 0, "nearest": 1}
_PADS = {"zeros": 0, "border": 1, "reflection": 2}
_SERIAL_BELOW = 32768  # output elements below which one thread beats waking the others

# both functions return 0, or 1 when their scratch (4 indices and weights per point) could
# not be allocated
_lib = c_library(_source(), [s + n for s in ("f32", "f64") for n in ("_lin_fwd", "_lin_bwd")])


def _ptr(a):
    return data_ptr(a) if a is not None else _P(0)  # NOTE [ Lean kernel calls ]


def _geometry(x, grid, mode, padding_mode):
    """(lib, N, C, H, W, P) when the kernels take these operands, else None."""
    if (type(x) is not np.ndarray or type(grid) is not np.ndarray or x.dtype not in _SUFFIX
            or grid.dtype != x.dtype or x.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2
            or x.shape[0] != grid.shape[0] or x.size == 0 or grid.size == 0
            or mode not in _MODES or padding_mode not in _PADS
            or x.shape[2] * x.shape[3] >= 2 ** 31):
        return None
    lib = _lib()
    if lib is None:
        return None
    n, c, h, w = x.shape
    return lib, n, c, h, w, grid.shape[1] * grid.shape[2]


def available(x, grid, mode, padding_mode):
    """Whether :func:`grid_sample_2d` and its backward take these arrays."""
    return _geometry(x, grid, mode, padding_mode) is not None


def _threads(work):
    return 1 if work < _SERIAL_BELOW else get_num_threads()


def grid_sample_2d(x, grid, mode, padding_mode, align_corners):
    """``grid_sample`` of ``x`` (N, C, H, W) at ``grid`` (N, Ho, Wo, 2): the (N, C, Ho, Wo)
    output, or None where the kernel does not apply."""
    geo = _geometry(x, grid, mode, padding_mode)
    if geo is None:
        return None
    lib, n, c, h, w, p = geo
    x = np.ascontiguousarray(x)
    grid = np.ascontiguousarray(grid)
    out = np.empty((n, c) + grid.shape[1:3], x.dtype)
    if getattr(lib, _SUFFIX[x.dtype] + "_gs_fwd")(
        _ptr(x), _ptr(grid), _ptr(out), _L(n), _L(c), _L(h), _L(w),
        _L(p), _I(_MODES[mode]), _I(_PADS[padding_mode]), _I(1 if align_corners else 0),
        _I(_threads(out.size))):
        raise MemoryError(f"grid_sample(): out of memory for a grid of {list(grid.shape)}")
    return out


def grid_sample_2d_backward(g, x, grid, mode, padding_mode, align_corners, need_x=True,
                            need_grid=True):
    """``(grad_input, grad_grid)`` of ``grid_sample`` for the output gradient ``g`` (either
    None when not asked for), or None where the kernel does not apply."""
    geo = _geometry(x, grid, mode, padding_mode)
    if geo is None or type(g) is not np.ndarray or g.dtype != x.dtype:
        return None
    lib, n, c, h, w, p = geo
    if g.shape != (n, c) + grid.shape[1:3]:
        return None
    x = np.ascontiguousarray(x)
    grid = np.ascontiguousarray(grid)
    g = np.ascontiguousarray(g)
    gx = np.zeros(x.shape, x.dtype) if need_x else None
    gg = np.empty(grid.shape, x.dtype) if need_grid else None
    if getattr(lib, _SUFFIX[x.dtype] + "_gs_bwd")(
        _ptr(g), _ptr(x), _ptr(grid), _ptr(gx), _ptr(gg), _L(n), _L(c), _L(h), _L(w), _L(p),
        _I(_MODES[mode]), _I(_PADS[padding_mode]),
        _I(1 if align_corners else 0), _I(_threads(g.size))):
        raise MemoryError(f"grid_sample backward: out of memory for a grid of "
                          f"{list(grid.shape)}")
    return gx, gg


def linear_available(x):
    """Whether the linear-axis record takes data like the array ``x``: host floating NumPy
    data (its forward and backward fall back to NumPy where the kernels do not apply)."""
    return type(x) is np.ndarray and x.dtype.kind == "f"


def _lin_args(x, axis, idx0, idx1, w0, w1):
    """(lib, outer, L, inner) when the linear-axis kernels take these operands, else None."""
    if (type(x) is not np.ndarray or x.dtype not in _SUFFIX or x.ndim == 0
            or type(w0) is not np.ndarray or w0.dtype != x.dtype or w1.dtype != x.dtype
            or idx0.dtype != np.int64 or idx1.dtype != np.int64):
        return None
    lib = _lib()
    if lib is None:
        return None
    outer = 1
    for s in x.shape[:axis]:
        outer *= s
    inner = 1
    for s in x.shape[axis + 1:]:
        inner *= s
    return lib, outer, x.shape[axis], inner


def linear_axis(x, axis, idx0, idx1, w0, w1):
    """``x[.., idx0, ..] * w0 + x[.., idx1, ..] * w1`` along ``axis`` (``idx*``: int64 indices
    in range, ``w*``: weights of ``x``'s dtype, one per output position) in one pass, or
    None where the kernel does not apply."""
    geo = _lin_args(x, axis, idx0, idx1, w0, w1)
    if geo is None:
        return None
    lib, outer, n, inner = geo
    o = len(idx0)
    x = np.ascontiguousarray(x)
    y = np.empty(x.shape[:axis] + (o,) + x.shape[axis + 1:], x.dtype)
    if y.size:
        getattr(lib, _SUFFIX[x.dtype] + "_lin_fwd")(
            _ptr(x), _ptr(y), _L(outer), _L(n), _L(inner), _L(o), _ptr(idx0), _ptr(idx1),
            _ptr(w0), _ptr(w1), _I(_threads(y.size)))
    return y


def linear_axis_backward(g, axis, size, idx0, idx1, w0, w1):
    """The transpose of :func:`linear_axis`: ``g``'s rows along ``axis`` added back into a
    zero array with ``size`` positions there, or None where the kernel does not apply."""
    geo = _lin_args(g, axis, idx0, idx1, w0, w1)
    if geo is None:
        return None
    lib, outer, o, inner = geo
    g = np.ascontiguousarray(g)
    gx = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype)
    if g.size:
        getattr(lib, _SUFFIX[g.dtype] + "_lin_bwd")(
            _ptr(g), _ptr(gx), _L(outer), _L(size), _L(inner), _L(o), _ptr(idx0), _ptr(idx1),
            _ptr(w0), _ptr(w1), _I(_threads(g.size)))
    return gx
