"""Probe: does a cheap-wake worker pool make one-pass elementwise ops pay on two threads?

NOTE [ A cheap-wake pool for one-pass ops (probe) ]
One-pass ops (add, mul, relu, ...) stay on NumPy's single thread: under
``OMP_WAIT_POLICY=PASSIVE`` an OpenMP region pays a futex wake-up on every call, and a spin
count starves OpenBLAS (issue 18's notes). This script builds, outside ember, the alternative
the issue suggests: one worker pthread that spins for ``--spin-us`` after each task (so
back-to-back ops find it awake), then sleeps on a futex; the caller posts the upper half of
the range, wakes the worker only if it sleeps, does the lower half itself and waits (the same
bounded spin, then a futex). One caller at a time (a trylock; a second caller runs alone);
``pthread_atfork`` forgets the worker in a child. It times, at ``--n`` float32 elements, with
the result array preallocated (no page faults in any row), wall and CPU time per call of:
NumPy's ``add(out=)``, ember's OpenMP kernel for ``a + b`` (``out=``), the pool on one thread
(its own loop's speed), and the pool on two threads, back to back and with 1 ms gaps (where
the worker has gone to sleep: the wake-up cost).

Measured by the ops-A helper on the shared 2-core machine at load average 5-7 (wall / CPU
us, back to back): NumPy 453-480 / 159-172, OpenMP kernel 762-942 / 241-294, pool 1 thread
582-655 / 194-215, pool 2 threads 778-803 / 263-275. With every core busy a second thread
cannot help, so these figures decide nothing; the decision needs a quiet machine, and then
the model check (``benchmarks/ab.py benchmarks/nn_models.py --threads 2``) with the pool
wired into the binary ops. Not wired into ember.

Usage: ``python benchmarks/elementwise_pool_probe.py [--n 1000000] [--spin-us 30]
[--rounds 3]``
"""

import argparse
import ctypes
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SRC = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
#include <string.h>

typedef struct { int op; const float *a, *b; float *y; } task_t;
static task_t T;
static long LO, HI;
static _Atomic int gen, done, wsleep, csleep;
static int started;
static long spin_ns = 30000;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;

static inline long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}
static void fwait(_Atomic int *p, int v)
{
    syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}
static void fwake(_Atomic int *p)
{
    syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void run_range(const task_t *t, long lo, long hi)
{
    const float *a = t->a, *b = t->b; float *y = t->y;
    switch (t->op) {
    case 0: for (long i = lo; i < hi; i++) y[i] = a[i] + b[i]; break;
    case 1: for (long i = lo; i < hi; i++) y[i] = a[i] * b[i]; break;
    case 2:
        for (long i = lo; i < hi; i++) y[i] = a[i] > 0.0f ? a[i] : (a[i] != a[i] ? a[i] : 0.0f);
        break;
    }
}

static void *worker(void *u)
{
    int seen = (int)(long)u;  /* gen when created: a task posted before this thread runs is seen */
    for (;;) {
        long t0 = now_ns();
        int g;
        while ((g = atomic_load(&gen)) == seen) {
            if (now_ns() - t0 > spin_ns) {
                atomic_store(&wsleep, 1);
                if (atomic_load(&gen) == seen) fwait(&gen, seen);
                atomic_store(&wsleep, 0);
                t0 = now_ns();
            } else {
                __builtin_ia32_pause();
            }
        }
        seen = g;
        run_range(&T, LO, HI);
        atomic_store(&done, g);
        if (atomic_load(&csleep)) fwake(&done);
    }
    return NULL;
}

static void child_reset(void) { started = 0; pthread_mutex_init(&busy, NULL); }

void pool_set_spin(long ns) { spin_ns = ns; }

int pool_run(int op, const float *a, const float *b, float *y, long n, int nt)
{
    task_t t = {op, a, b, y};
    if (nt < 2 || pthread_mutex_trylock(&busy) != 0) { run_range(&t, 0, n); return 1; }
    if (!started) {
        pthread_t th;
        pthread_atfork(NULL, NULL, child_reset);
        if (pthread_create(&th, NULL, worker, (void *)(long)atomic_load(&gen)) != 0) {
            pthread_mutex_unlock(&busy);
            run_range(&t, 0, n);
            return 1;
        }
        pthread_detach(th);
        started = 1;
    }
    long mid = (n / 2) & ~15L;
    T = t; LO = mid; HI = n;
    int g = atomic_load(&gen) + 1;
    atomic_store(&gen, g);
    if (atomic_load(&wsleep)) fwake(&gen);
    run_range(&t, 0, mid);
    long t0 = now_ns();
    while (atomic_load(&done) != g) {
        if (now_ns() - t0 > spin_ns) {
            atomic_store(&csleep, 1);
            int d = atomic_load(&done);
            if (d != g) fwait(&done, d);
            atomic_store(&csleep, 0);
        } else {
            __builtin_ia32_pause();
        }
    }
    pthread_mutex_unlock(&busy);
    return 2;
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--spin-us", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()

    from ember._codegen import build
    from ember._codegen.ufuncs import run

    lib = build.load(SRC)
    lib.pool_run.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_long, ctypes.c_int]
    lib.pool_set_spin.argtypes = [ctypes.c_long]
    lib.pool_set_spin(int(args.spin_us * 1000))
    n = args.n
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    y = np.empty_like(a)
    ap_, bp, yp = a.ctypes.data, b.ctypes.data, y.ctypes.data
    lib.pool_run(0, ap_, bp, yp, n, 2)
    assert (y == a + b).all(), "pool add differs from NumPy"
    lib.pool_run(2, ap_, bp, yp, n, 2)
    assert (y == np.maximum(a, 0)).all(), "pool relu differs from NumPy"

    cases = [("numpy add out=", lambda: np.add(a, b, out=y)),
             ("openmp kernel out=", lambda: run("a + b", "fi", (a, b), y)),
             ("pool 1 thread", lambda: lib.pool_run(0, ap_, bp, yp, n, 1)),
             ("pool 2 threads", lambda: lib.pool_run(0, ap_, bp, yp, n, 2))]
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}: {n} float32, spin {args.spin_us} us")
        for name, f in cases:
            f()
            c, t = time.process_time(), time.perf_counter()
            for _ in range(args.reps):
                f()
            w = (time.perf_counter() - t) / args.reps * 1e6
            cpu = (time.process_time() - c) / args.reps * 1e6
            gaps = []
            for _ in range(50):
                time.sleep(0.001)
                t = time.perf_counter()
                f()
                gaps.append(time.perf_counter() - t)
            print(f"  {name:20s} back to back: wall {w:7.1f} us, cpu {cpu:7.1f} us; "
                  f"after 1 ms idle: median {np.median(gaps) * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
