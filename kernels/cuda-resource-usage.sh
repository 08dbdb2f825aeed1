#!/bin/bash
# Compiles every kernels/src/main/cuda/*.cu exactly as the build does (sm_80, sm_90a cubins + compute_90
# PTX), warnings are errors, and prints registers / shared memory / spills per kernel and arch.
# Usage: kernels/cuda-resource-usage.sh [out-dir]   (needs nvcc on PATH; no GPU)
set -euo pipefail
src="$(cd "$(dirname "$0")/src/main/cuda" && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
for f in "$src"/*.cu; do
  b=$(basename "$f" .cu)
  nvcc -std=c++17 -O3 -fatbin -Werror all-warnings \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90 \
    -Xptxas -v,-warn-spills -o "$out/$b.fatbin" "$f" > "$out/$b.ptxas.txt" 2>&1 \
    || { cat "$out/$b.ptxas.txt"; exit 1; }
  echo "== $b.cu"
  # ptxas -v prints, per entry: "Compiling entry function 'NAME' for 'sm_XX'", the spill line, "Used N registers..."
  awk '
    /Compiling entry function/ { split($0, q, "\047"); fn = q[2]; arch = q[4] }
    /bytes stack frame/ { gsub(/^[ \t]+/, ""); spill = $0 }
    /Used [0-9]+ registers/ { sub(/.*Used /, "Used "); printf "  %-7s %-42s %s | %s\n", arch, fn, $0, spill }
  ' "$out/$b.ptxas.txt"
done
