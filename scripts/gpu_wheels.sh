#!/usr/bin/env bash
# Fetch CuPy for CUDA 13 (and what it needs beyond NumPy) as Python 3.12 manylinux x86_64
# wheels into .whl/, for a GPU machine without network access: scripts/gpu_check.sh
# installs them there when `import cupy` fails. The project's GPU machines already ship
# CuPy 14; this is for others. Needs pip with network access here.
set -eu
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
PLAT=""
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux1_x86_64; do
  PLAT="$PLAT --platform $p"
done
for req in "cupy-cuda13x>=14,<15" "cuda-pathfinder>=1.1"; do
  # shellcheck disable=SC2086
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp $PLAT -d .whl "$req"
done
ls -la .whl
