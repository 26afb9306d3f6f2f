"""Building C kernels: the system compiler, a content-hashed disk cache, ctypes loading.

NOTE [ Kernel cache ]
A kernel's shared object is named by the SHA-256 of everything that decides its bytes:
the C source, the compiler command and flags, the compiler's version line, the machine
(``platform.machine()``, ``platform.system()``) and a format version. It lives in
``$EMBER_CACHE_DIR`` (default ``~/.cache/ember/kernels``) and is written atomically: the
compiler writes a private temporary file in the same directory, which is then renamed over
the final name (``os.replace``), so concurrent processes never load a half-written file and
at worst both compile the same kernel. An in-process dict keyed by the same hash holds the
loaded ``ctypes`` function, so each kernel is compiled at most once per machine and loaded at
most once per process; a second process with a warm cache pays only ``dlopen``.

Flags: ``-O3 -fopenmp -fPIC -shared -fno-math-errno -fno-trapping-math
-ffp-contract=off`` plus the instruction-set level of this CPU (``-march=x86-64-v4`` with
AVX-512, ``-v3`` with AVX2, else the baseline; not ``-march=native``, which would tie the
object to one CPU model under a key that cannot name it). No ``-ffast-math`` (NaN/inf
semantics and rounding must stay NumPy's); ``-fno-math-errno`` only lets ``sqrt`` compile to
one instruction; ``-ffp-contract=off`` forbids fusing ``a * b + c`` into an FMA, which would
round differently from NumPy, so every level gives the same elementwise results (vector
width changes only the order inside a reduction's lanes), except the vectorised float
functions written with explicit ``fmaf``/``fma`` where the CPU has FMA (``ember_expf``,
``ember_exp2f``, ``ember_log1pf``, the softmax kernels' ``exp``): within their stated ulp
bounds at every level, bit for bit the unfused formulas without FMA. One level per object keeps the
first compile short (cloning every kernel for three levels tripled it).
``$EMBER_CC_FLAGS`` appends flags (part of the key).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time

FORMAT = 1
FLAGS = ["-O3", "-fopenmp", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math",
         "-ffp-contract=off", "-std=gnu99"]

_LOCK = threading.Lock()
_LOADED = {}      # hash -> ctypes.CDLL
_COMPILER = []    # [(path or None, version line)], found once per process
STATS = {"compiled": 0, "loaded_from_disk": 0, "compile_seconds": 0.0, "load_seconds": 0.0}


class CompilerMissing(RuntimeError):
    """No working C compiler (``$CC`` or ``cc``) with OpenMP."""


def cache_dir():
    d = os.environ.get("EMBER_CACHE_DIR")
    if not d:
        d = os.path.join(os.path.expanduser("~"), ".cache", "ember", "kernels")
    return d


def compiler():
    """``(path, version)`` of the C compiler, or ``(None, reason)`` when there is none."""
    if _COMPILER:
        return _COMPILER[0]
    cc = os.environ.get("CC") or "cc"
    path = shutil.which(cc)
    found = (None, f"no C compiler {cc!r} on PATH")
    if path is not None:
        try:
            r = subprocess.run([path, "--version"], capture_output=True, text=True,
                               timeout=30)
            ver = (r.stdout or r.stderr).splitlines()[0] if r.returncode == 0 else ""
            found = (path, ver) if r.returncode == 0 else (None, f"{cc} --version failed")
        except (OSError, subprocess.SubprocessError, IndexError) as e:
            found = (None, f"{cc} does not run: {e}")
    _COMPILER.append(found)
    return found


_ISA = []


def _isa_flags():
    """``-march=x86-64-v4``/``-v3`` when this x86-64 CPU has AVX-512/AVX2 (Linux), else
    nothing (the baseline). Part of the cache key, so machines sharing a cache directory
    never load an object built for an instruction set they lack."""
    if _ISA:
        return _ISA[0]
    isa = []
    if platform.machine() in ("x86_64", "AMD64") and os.path.exists("/proc/cpuinfo"):
        try:
            with open("/proc/cpuinfo") as f:
                flags = set()
                for line in f:
                    if line.startswith("flags"):
                        flags = set(line.split(":", 1)[1].split())
                        break
        except OSError:
            flags = set()
        v3 = {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "xsave"}
        v4 = v3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
        if v4 <= flags:
            isa = ["-march=x86-64-v4"]
        elif v3 <= flags:
            isa = ["-march=x86-64-v3"]
    _ISA.append(isa)
    return isa


def _flags():
    extra = os.environ.get("EMBER_CC_FLAGS", "").split()
    return FLAGS + _isa_flags() + extra


def key_of(source):
    """The content hash naming ``source``'s shared object (NOTE [ Kernel cache ])."""
    path, ver = compiler()
    h = hashlib.sha256()
    for part in (str(FORMAT), source, os.path.basename(path or ""), ver, " ".join(_flags()),
                 platform.machine(), platform.system()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


# NOTE [ OpenMP wait policy ]: GOMP_SPINCOUNT's default when the user set neither variable;
# libgomp counts ~100,000 spins per millisecond, so 3,000 is ~30 us
SPINCOUNT = "3000"


def _passive_openmp():
    """NOTE [ OpenMP wait policy ]: libgomp's default keeps each worker spinning for ~3 ms
    after a parallel region; on cores that OpenBLAS's threads share, that spin starved the
    next GEMM (LeNet train step, 2 threads: 50-86 ms with spinning, 27-30 ms passive). A
    worker that sleeps at once costs every region a futex wake-up instead (~60 us here: a
    threaded 1e6 float32 add took 154 us passive, 88 us with a short spin, NumPy's one
    thread 165 us). So before the first kernel loads libgomp, when the user set neither
    OMP_WAIT_POLICY nor GOMP_SPINCOUNT, the policy is PASSIVE (for other OpenMP runtimes)
    and libgomp's spin count ``SPINCOUNT`` (~30 us: back-to-back eager ops find the worker
    awake, and it sleeps long before OpenBLAS's next product needs the core; the model
    benchmarks tie or gain, RESULTS.md). This is process-wide: an OpenMP runtime that starts
    later in the process reads the same variables (README.md "What ember changes in your
    process"); either variable in the environment is left as the user set it."""
    env = os.environ
    if "OMP_WAIT_POLICY" not in env and "GOMP_SPINCOUNT" not in env:
        env["GOMP_SPINCOUNT"] = SPINCOUNT
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load(source):
    """The ``ctypes.CDLL`` of ``source``: from this process's cache, the disk cache, or
    compiled now. Raises ``CompilerMissing`` without a working compiler."""
    path, ver = compiler()
    if path is None:
        raise CompilerMissing(ver)
    key = key_of(source)
    lib = _LOADED.get(key)
    if lib is not None:
        return lib
    with _LOCK:
        lib = _LOADED.get(key)
        if lib is not None:
            return lib
        d = cache_dir()
        so = os.path.join(d, f"k{key}.so")
        _passive_openmp()
        if os.path.exists(so):
            try:
                t0 = time.perf_counter()
                lib = ctypes.CDLL(so)
                STATS["loaded_from_disk"] += 1
                STATS["load_seconds"] += time.perf_counter() - t0
            except OSError:  # a foreign or damaged file: rebuild it
                lib = None
        if lib is None:
            lib = _compile(path, source, d, so)
        _LOADED[key] = lib
        return lib


def _compile(cc, source, d, so, flags=None):
    """Compile ``source`` into ``so`` (atomically) and return its ``ctypes.CDLL``; with
    ``flags``, those flags instead of the kernels' (no ISA fallback) and no loading."""
    os.makedirs(d, exist_ok=True)
    t0 = time.perf_counter()
    fd, tmp_c = tempfile.mkstemp(suffix=".c", prefix=".tmp", dir=d)
    tmp_so = tmp_c[:-2] + ".so"
    try:
        with os.fdopen(fd, "w") as f:
            f.write(source)
        r = subprocess.run([cc, *(flags or _flags()), tmp_c, "-o", tmp_so, "-lm"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0 and _ISA and _ISA[0] and flags is None:
            # an older compiler without -march=x86-64-vN: build for the baseline from now on
            # (under the baseline's key: the caller's key named the failed flags)
            _ISA[0] = []
            so = os.path.join(d, f"k{key_of(source)}.so")
            r = subprocess.run([cc, *_flags(), tmp_c, "-o", tmp_so, "-lm"],
                               capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise CompilerMissing(f"C compiler failed on a generated kernel:\n{r.stderr[-2000:]}")
        os.replace(tmp_so, so)  # atomic: readers see the old name absent or complete
    finally:
        for p in (tmp_c, tmp_so):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
    STATS["compiled"] += 1
    STATS["compile_seconds"] += time.perf_counter() - t0
    return ctypes.CDLL(so) if flags is None else None


def load_extension(name, source):
    """The CPython extension module ``name`` built from the C ``source`` (which defines
    ``PyInit_<name>``), from the kernel cache or compiled now against this interpreter's
    headers; None where it cannot be (no compiler, no ``Python.h``, a failed build): callers
    keep a ctypes path (NOTE [ A C entry for kernel launches ] in kernel.py). Keyed like the
    kernels (NOTE [ Kernel cache ]), plus the interpreter's version and extension suffix."""
    import importlib.machinery
    import importlib.util
    import sys
    import sysconfig

    path, ver = compiler()
    inc = sysconfig.get_paths().get("include")
    if path is None or not inc or not os.path.exists(os.path.join(inc, "Python.h")):
        return None
    flags = ["-O2", "-fPIC", "-shared", "-std=gnu99", "-I" + inc]
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    h = hashlib.sha256()
    for part in (str(FORMAT), "extension", name, source, os.path.basename(path), ver,
                 " ".join(flags), sys.version, suffix, platform.machine(), platform.system()):
        h.update(part.encode())
        h.update(b"\0")
    d = cache_dir()
    so = os.path.join(d, f"x{h.hexdigest()[:32]}{suffix}")
    with _LOCK:
        try:
            if not os.path.exists(so):
                _compile(path, source, d, so, flags)
            loader = importlib.machinery.ExtensionFileLoader(name, so)
            spec = importlib.util.spec_from_file_location(name, so, loader=loader)
            mod = importlib.util.module_from_spec(spec)
            loader.exec_module(mod)
        except (CompilerMissing, OSError, ImportError, subprocess.SubprocessError):
            return None
    return mod
