#!/usr/bin/env bash
# Builds the emulated CUDA device for the kernels jar (called by Maven, kernels/pom.xml, and usable by hand):
#   kernels/emu/build.sh <cuda-src-dir> <work-dir> <resource-dir> [--test]
# 1. build-emu.sh: every kernel of <cuda-src-dir> (and the test kernels of kernels/emu/test) compiled for the
#    host into <work-dir>/libpolyv_emu_kernels.a, with the self-test (--test runs it: broken kernels must be
#    reported, good and real kernels must match their CPU references);
# 2. driver/build-driver.sh: the stand-in libcuda.so.1 and libcublas.so.13 linked around that archive;
# 3. both copied to <resource-dir> (ai/polyv/kernels/emu in the jar), where EmulatedDevice finds them.
# Without g++ or the CUDA headers it prints a note and exits 0 (the CUDA tests then skip with that reason).
set -euo pipefail
SRC="${1:?usage: build.sh <cuda-src-dir> <work-dir> <resource-dir> [--test]}"
WORK="${2:?usage: build.sh <cuda-src-dir> <work-dir> <resource-dir> [--test]}"
RES="${3:?usage: build.sh <cuda-src-dir> <work-dir> <resource-dir> [--test]}"
TEST="${4:-}"
HERE="$(cd "$(dirname "$0")" && pwd)"
if ! command -v "${CXX:-g++}" >/dev/null 2>&1; then
  echo "[polyv emu] no C++ compiler (${CXX:-g++}): the emulated CUDA device is not built"
  exit 0
fi
bash "$HERE/build-emu.sh" "$SRC" "$WORK" $TEST
if [ ! -f "$WORK/libpolyv_emu_kernels.a" ]; then
  exit 0   # build-emu.sh said why (no CUDA headers)
fi
lib="$WORK/lib"
if [ ! -f "$lib/libcuda.so.1" ] || [ -n "$(find "$WORK/libpolyv_emu_kernels.a" "$HERE/driver" -newer "$lib/libcuda.so.1" -name '*.a' -o -newer "$lib/libcuda.so.1" -name '*.cpp' -o -newer "$lib/libcuda.so.1" -name '*.h' 2>/dev/null | head -1)" ]; then
  bash "$HERE/driver/build-driver.sh" "$WORK/libpolyv_emu_kernels.a" "$lib" >/dev/null
fi
mkdir -p "$RES"
# copy, then rename into place: a running JVM maps these files, and overwriting a mapped library in place
# kills it with SIGBUS (seen when ./polyv rebuilt while the CUDA tests ran)
for f in libcuda.so.1 libcublas.so.13; do
  cp "$lib/$f" "$RES/.$f.tmp" && mv -f "$RES/.$f.tmp" "$RES/$f"
done
echo "[polyv emu] emulated CUDA device: $RES/libcuda.so.1, $RES/libcublas.so.13"
