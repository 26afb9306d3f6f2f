"""Hand-written threaded C kernel for ``topk`` with small ``k``: one pass with a bounded heap.

NOTE [ Top-k by a bounded heap ]
``topk(x, k)`` with ``k`` much smaller than the row took a NumPy partition of the whole row
(a copy and an introselect, ~5 ns per element) and a sort of the candidates. Here each row
(or, for few rows, each thread's part of a row) keeps its best ``k`` (value, index) pairs in
a binary heap whose root is the worst kept: most elements cost one comparison with the root
and are skipped. The parts' heaps are then merged into one and emptied worst-first into the
output, so the result is in order, best first.

The order is the stable full sort's: larger (``largest``) or smaller values first, NaN
counted as the largest value (first when ``largest``, last otherwise), and equal values (NaN
with NaN, -0.0 with 0.0) by increasing index. Indices are int64. Returns None where the
kernel does not apply (not host float32/float64/int32/int64 NumPy data, no compiler,
``EMBER_JIT_DISABLE``); the caller partitions with NumPy.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_TEMPLATE = r"""
/* whether (a, ia) comes before (b, ib) in the stable order */
static inline int $S_better($T a, long ia, $T b, long ib, int largest)
{
    int an = a != a, bn = b != b;
    if (an || bn) {
        if (an && bn) return ia < ib;
        return largest ? an : bn;
    }
    if (a != b) return largest ? a > b : a < b;
    return ia < ib;
}

/* heap of m entries, root the worst: move entry 0 down to its place */
static void $S_down($T* hv, long* hi, long m, int largest)
{
    long p = 0;
    $T v = hv[0];
    long iv = hi[0];
    for (;;) {
        long c = 2 * p + 1;
        if (c >= m) break;
        if (c + 1 < m && $S_better(hv[c], hi[c], hv[c + 1], hi[c + 1], largest)) c++;
        if (!$S_better(v, iv, hv[c], hi[c], largest)) break;
        hv[p] = hv[c];
        hi[p] = hi[c];
        p = c;
    }
    hv[p] = v;
    hi[p] = iv;
}

/* add (v, i) to the heap of *m of at most k entries */
static inline void $S_offer($T* hv, long* hi, long* m, long k, $T v, long i, int largest)
{
    if (*m < k) {  /* sift up */
        long c = (*m)++;
        while (c > 0) {
            long p = (c - 1) / 2;
            if (!$S_better(hv[p], hi[p], v, i, largest)) break;
            hv[c] = hv[p];
            hi[c] = hi[p];
            c = p;
        }
        hv[c] = v;
        hi[c] = i;
    } else if ($S_better(v, i, hv[0], hi[0], largest)) {
        hv[0] = v;
        hi[0] = i;
        $S_down(hv, hi, k, largest);
    }
}

/* scan x[j0:j1) (indices j0.. as given) into a heap; returns its size */
static long $S_scan(const $T* x, long j0, long j1, long k, int largest, $T* hv, long* hi)
{
    long m = 0, j = j0;
    for (; j < j1 && m < k; j++) $S_offer(hv, hi, &m, k, x[j], j, largest);
    for (; j < j1; j++) {
        $T v = x[j], r = hv[0];
        /* the common case, decided by one comparison: no better than the root */
        if (v == v && r == r && (largest ? v <= r : v >= r)) continue;
        $S_offer(hv, hi, &m, k, v, j, largest);
    }
    return m;
}

/* rows of n contiguous elements; out: (rows, k) indices, best first. 0, or 1 on no memory */
int $S_topk(const $T* x, long* out, long rows, long n, long k, int largest, int nt)
{
    int bad = 0;
    if (rows >= nt || nt == 1) {
        #pragma omp parallel num_threads(nt)
        {
            $T* hv = malloc(sizeof($T) * k);
            long* hi = malloc(sizeof(long) * k);
            if (!hv || !hi) {
                #pragma omp atomic write
                bad = 1;
            } else {
                #pragma omp for schedule(static)
                for (long r = 0; r < rows; r++) {
                    long m = $S_scan(x + r * n, 0, n, k, largest, hv, hi);
                    long* o = out + r * k;
                    while (m > 0) {  /* empty worst-first into the back */
                        o[m - 1] = hi[0];
                        m--;
                        hv[0] = hv[m];
                        hi[0] = hi[m];
                        $S_down(hv, hi, m, largest);
                    }
                }
            }
            free(hv);
            free(hi);
        }
        return bad;
    }
    /* few long rows: each thread scans a part, then the parts' heaps are merged */
    $T* pv = malloc(sizeof($T) * k * nt);
    long* pi = malloc(sizeof(long) * k * nt);
    long* pm = malloc(sizeof(long) * nt);
    $T* hv = malloc(sizeof($T) * k);
    long* hi = malloc(sizeof(long) * k);
    if (!pv || !pi || !pm || !hv || !hi) {
        free(pv); free(pi); free(pm); free(hv); free(hi);
        return 1;
    }
    for (long r = 0; r < rows; r++) {
        const $T* xr = x + r * n;
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long t = 0; t < nt; t++)
            pm[t] = $S_scan(xr, n * t / nt, n * (t + 1) / nt, k, largest, pv + t * k,
                            pi + t * k);
        long m = 0;
        for (long t = 0; t < nt; t++)
            for (long q = 0; q < pm[t]; q++)
                $S_offer(hv, hi, &m, k, pv[t * k + q], pi[t * k + q], largest);
        long* o = out + r * k;
        while (m > 0) {
            o[m - 1] = hi[0];
            m--;
            hv[0] = hv[m];
            hi[0] = hi[m];
            $S_down(hv, hi, m, largest);
        }
    }
    free(pv); free(pi); free(pm); free(hv); free(hi);
    return 0;
}
"""

_TYPES = {np.dtype(np.float32): ("float", "f32"), np.dtype(np.float64): ("double", "f64"),
          np.dtype(np.int32): ("int", "i32"), np.dtype(np.int64): ("long", "i64")}


def _source():
    return "#include <stdlib.h>\n" + "".join(
        _TEMPLATE.replace("$T", t).replace("$S", s) for t, s in _TYPES.values())


_L = ctypes.c_long
_I = ctypes.c_int
_SERIAL_BELOW = 65536  # elements below which one thread beats waking the others

_lib = c_library(_source(), [])


def topk_indices(a, axis, largest, k):
    """int64 indices of the first ``k`` of the stable sort of ``a`` along ``axis`` (descending
    when ``largest``; NaN the largest value), in that order, or None where the kernel does not
    apply."""
    if type(a) is not np.ndarray or a.dtype not in _TYPES or a.ndim == 0 or k <= 0:
        return None
    lib = _lib()
    if lib is None:
        return None
    last = axis == a.ndim - 1 or axis == -1
    b = np.ascontiguousarray(a if last else np.moveaxis(a, axis, -1))
    n = b.shape[-1]
    rows = b.size // n if n else 0
    out = np.empty(b.shape[:-1] + (k,), np.int64)
    if rows:
        nt = 1 if b.size < _SERIAL_BELOW else get_num_threads()
        if getattr(lib, _TYPES[b.dtype][1] + "_topk")(
                data_ptr(b), data_ptr(out), _L(rows), _L(n), _L(k),
                _I(1 if largest else 0), _I(nt)):
            raise MemoryError(f"topk(): out of memory for k={k}")
    return out if last else np.moveaxis(out, -1, axis)
