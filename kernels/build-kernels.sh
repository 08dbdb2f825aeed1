#!/usr/bin/env bash
# Compiles every kernels/src/main/cuda/<op>.cu into <out>/<op>.fatbin (cubins for sm_80 and sm_90a,
# PTX for compute_90 so newer GPUs can JIT it). Called by Maven (kernels/pom.xml, generate-resources)
# and usable by hand:  kernels/build-kernels.sh <src-dir> <out-dir>
#
# - no nvcc found: prints a note and exits 0 (the runtime then compiles the bundled .cu sources with
#   NVRTC at start, or says that CUDA kernels are unavailable);
# - any compile error or warning fails the build (--Werror all-warnings), with nvcc's message;
# - a fatbin newer than its source and every header is kept (incremental);
# - files compile in parallel (one nvcc per core, -t 0 inside each for the gencode targets).
# Env: NVCC (path to nvcc), POLYV_SKIP_NVCC=1 (act as if nvcc were absent, to test the NVRTC path).
set -euo pipefail
SRC="${1:?usage: build-kernels.sh <src-dir> <out-dir>}"
OUT="${2:?usage: build-kernels.sh <src-dir> <out-dir>}"

find_nvcc() {
  if [ -n "${NVCC:-}" ] && [ -x "$NVCC" ]; then echo "$NVCC"; return; fi
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return; fi
  local c
  for c in "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    if [ -x "$c" ]; then echo "$c"; return; fi
  done
}

NVCC_BIN="$(find_nvcc || true)"
if [ -n "${POLYV_SKIP_NVCC:-}" ] || [ -z "$NVCC_BIN" ]; then
  echo "[polyv kernels] nvcc not found (or POLYV_SKIP_NVCC set): no fatbins built; the runtime will compile the bundled .cu sources with NVRTC"
  exit 0
fi

mkdir -p "$OUT"
GENCODE=(-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90)
FLAGS=(-fatbin -O3 -std=c++17 --Werror all-warnings -t 0 -I "$SRC")
newest_header=0
for h in "$SRC"/*.cuh; do
  [ -e "$h" ] || continue
  t=$(stat -c %Y "$h"); [ "$t" -gt "$newest_header" ] && newest_header=$t
done

start=$(date +%s.%N)
todo=()
for cu in "$SRC"/*.cu; do
  op="$(basename "$cu" .cu)"
  fb="$OUT/$op.fatbin"
  if [ -f "$fb" ] && [ "$fb" -nt "$cu" ] && [ "$(stat -c %Y "$fb")" -ge "$newest_header" ]; then continue; fi
  todo+=("$cu")
done
if [ "${#todo[@]}" -eq 0 ]; then
  echo "[polyv kernels] all fatbins up to date ($NVCC_BIN)"
  exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT
pids=(); names=()
for cu in "${todo[@]}"; do
  op="$(basename "$cu" .cu)"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  ( "$NVCC_BIN" "${FLAGS[@]}" "${GENCODE[@]}" -o "$OUT/$op.fatbin.tmp" "$cu" >"$logdir/$op.log" 2>&1 \
      && mv "$OUT/$op.fatbin.tmp" "$OUT/$op.fatbin" ) &
  pids+=($!); names+=("$op")
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "[polyv kernels] FAILED: ${names[$i]}.cu" >&2
    cat "$logdir/${names[$i]}.log" >&2
    rm -f "$OUT/${names[$i]}.fatbin.tmp"
    failed=1
  elif [ -s "$logdir/${names[$i]}.log" ]; then
    cat "$logdir/${names[$i]}.log"
  fi
done
end=$(date +%s.%N)
if [ "$failed" -ne 0 ]; then exit 1; fi
printf '[polyv kernels] %d kernel(s) compiled for sm_80, sm_90a (+compute_90 PTX) in %.1f s with %s\n' \
  "${#todo[@]}" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$NVCC_BIN"
