#!/usr/bin/env bash
# The GPU check of issue 15, in one run (under 8 minutes): environment, the GPU tests
# (tests/gpu: every op-table entry on cuda vs cpu with gradients, nn layers, training runs
# that must converge, ember.cuda, the generated CUDA kernels, autocast + GradScaler, NCCL at
# world size 1, CUDA graphs, non_blocking copies + the pinned DataLoader + DDP's device
# buckets), the CPU-side CUDA tests (nvcc/NVRTC compile checks, the fake CuPy's amp/NCCL/
# graph/transfer tests) and the benchmarks beside PyTorch (scripts/gpu_bench.py).
#
#   scripts/gpu_check.sh            on a machine with an NVIDIA GPU and CuPy
#   scripts/gpu_check.sh --dry-run  everything on the CPU (checks this script and the tests
#                                   on machines without a GPU; the numbers mean nothing)
#
# Needs no network: CuPy (cupy-cuda13x) must be importable, or its wheels must lie in .whl/
# (see docs/cuda.md: `scripts/gpu_wheels.sh` fetches them on a machine with pip access).
# Logs go to $OUT (the device tool's output folder) or /tmp/ember_gpu_check.
set -u
cd "$(dirname "$0")/.."
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; fi
PY=${PYTHON:-python3}
LOG=${OUT:-/tmp/ember_gpu_check}
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
START=$(date +%s)
STATUS=()

step() {  # step NAME TIMEOUT CMD...: run, log, remember the outcome
  local name=$1 limit=$2
  shift 2
  echo
  echo "=== $name (limit ${limit}s, at $(( $(date +%s) - START ))s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$LOG/$name.log"
  local rc=${PIPESTATUS[0]}
  STATUS+=("$name: $( [ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")")
}

if [ "$DRY" = 0 ] && ! "$PY" -c "import cupy" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    echo "installing the carried wheels from .whl/"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/ember_site .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/ember_site"
  else
    echo "CuPy is not importable and .whl/ holds no wheels: see docs/cuda.md" >&2
    exit 1
  fi
fi

ENV_PY='
import platform
import numpy
import ember
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__)
except ImportError as e:
    print("cupy: not importable:", e)
print("ember.cuda.is_available():", ember.cuda.is_available())
if ember.cuda.is_available():
    print(ember.cuda.get_device_properties(0))
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available())
except ImportError:
    print("torch: not importable (benchmarks run without the comparison)")
'

if [ "$DRY" = 1 ]; then
  export EMBER_GPU_DRY_RUN=1
  BENCH_ARGS=--dry-run
else
  BENCH_ARGS=
fi
if [ "$DRY" = 0 ]; then nvidia-smi -L || true; fi
step environment 30 "$PY" -c "$ENV_PY"
step gpu_tests 180 "$PY" -m pytest -q -s -p no:cacheprovider -rfE --durations=8 tests/gpu
step cuda_cpu_side 130 "$PY" -m pytest -q -p no:cacheprovider -rfE tests/test_cuda_cpu_side.py \
  tests/test_cuda_amp_cpu_side.py tests/test_cuda_nccl_cpu_side.py \
  tests/test_cuda_graphs_cpu_side.py tests/test_cuda_transfer_cpu_side.py
step benchmarks 140 "$PY" scripts/gpu_bench.py $BENCH_ARGS

echo
echo "=== summary ($(( $(date +%s) - START ))s; logs in $LOG)"
FAIL=0
for s in "${STATUS[@]}"; do
  echo "  $s"
  case "$s" in *FAILED*) FAIL=1 ;; esac
done
exit $FAIL
