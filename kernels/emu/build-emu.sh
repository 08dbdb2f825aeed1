#!/usr/bin/env bash
# Builds the kernel emulator: every kernels/src/main/cuda/*.cu (SRC_DIR) and kernels/emu/test/*.cu
# compiled for the HOST by g++ (-DPOLYV_EMU, -include kernels/emu/cuda_emu.h, -fsanitize=thread
# instrumentation whose hooks live in the runtime; libtsan is never linked), plus the runtime.
#   kernels/emu/build-emu.sh SRC_DIR OUT_DIR [--test]
# Produces OUT_DIR/libpolyv_emu_kernels.a (PIC objects: runtime + kernels + test kernels, for the
# emulated driver), OUT_DIR/emu_selftest and OUT_DIR/emu_bench (timings, never run here); --test runs the self-test. Incremental per .cu; compiles
# in parallel (one g++ per core). No CUDA headers found: prints a note and exits 0.
# Env: CXX (g++), CUDA_HOME, NVCC, POLYV_EMU_OPT (default -O2: the kernels run about 25% faster than at -O1, same build time).
# Kernels compile with -fno-strict-aliasing: device code reads registers through reinterpret_cast (uint4 as
# __nv_bfloat162, bf16x2 packing), which nvcc keeps as written; g++ -O2 type-based alias analysis reordered those
# loads and the expert FFN GEMV path read garbage (h off by 442 on the ragged-groups case).
set -euo pipefail
SRC="$(cd "${1:?usage: build-emu.sh SRC_DIR OUT_DIR [--test]}" && pwd)"
OUT="${2:?usage: build-emu.sh SRC_DIR OUT_DIR [--test]}"
RUN_TEST="${3:-}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CXX="${CXX:-g++}"
OPT="${POLYV_EMU_OPT:--O2}"

find_cuda_include() {
  local nv=""
  if [ -n "${NVCC:-}" ] && [ -x "$NVCC" ]; then nv="$NVCC"
  elif command -v nvcc >/dev/null 2>&1; then nv="$(command -v nvcc)"; fi
  local c
  for c in ${nv:+"$(dirname "$(readlink -f "$nv")")/../include"} ${nv:+"$(dirname "$nv")/../include"} \
           "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include /usr/local/cuda-*/include; do
    if [ -f "$c/cuda_bf16.h" ]; then (cd "$c" && pwd); return; fi
  done
}
CUDA_INC="$(find_cuda_include || true)"
if [ -z "$CUDA_INC" ]; then
  echo "[polyv emu] no CUDA headers (cuda_bf16.h) found: kernel emulator not built"
  exit 0
fi

start=$(date +%s.%N)
mkdir -p "$OUT/gen" "$OUT/obj" "$OUT/rt"
OUT="$(cd "$OUT" && pwd)"
BASE=(-std=c++17 "$OPT" -fPIC -g0 -DPOLYV_EMU -I"$CUDA_INC" -I"$HERE/include" -I"$HERE/runtime")
KFLAGS=("${BASE[@]}" -fno-strict-aliasing -include "$HERE/cuda_emu.h" -I"$SRC" -Wno-unknown-pragmas)
INSTR=(-fsanitize=thread -ffunction-sections -fdata-sections -fno-threadsafe-statics)

deps_time=0
for h in "$SRC"/*.cuh "$HERE/cuda_emu.h" "$HERE/runtime/emu_internal.h" "$HERE/gen_registry.py" "$0"; do
  [ -e "$h" ] || continue
  t=$(stat -c %Y "$h"); [ "$t" -gt "$deps_time" ] && deps_time=$t
done

build_tu() {  # $1 = .cu, $2 = tu name
  local cu="$1" tu="$2" obj="$OUT/obj/$2.o"
  if [ -f "$obj" ] && [ "$obj" -nt "$cu" ] && [ "$(stat -c %Y "$obj")" -ge "$deps_time" ]; then return 0; fi
  "$CXX" -x c++ -E -DPOLYV_EMU_SCAN "${KFLAGS[@]}" "$cu" | python3 "$HERE/gen_registry.py" scan "$tu" > "$OUT/gen/reg_$tu.inc"
  printf '#include "%s"\n#include "emu_internal.h"\n#include "reg_%s.inc"\n' "$cu" "$tu" > "$OUT/gen/tu_$tu.cpp"
  "$CXX" -x c++ "${KFLAGS[@]}" "${INSTR[@]}" -I"$OUT/gen" -c "$OUT/gen/tu_$tu.cpp" -o "$obj.tmp"
  # shellcheck disable=SC2046
  objcopy $(python3 "$HERE/gen_registry.py" renames "$obj.tmp") "$obj.tmp" "$obj"
  rm -f "$obj.tmp"
}

jobs_max=$(nproc 2>/dev/null || echo 2)
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT
pids=(); names=()
launch() {  # name, command...
  local name="$1"; shift
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  ( "$@" ) >"$logdir/$name.log" 2>&1 &
  pids+=($!); names+=("$name")
}

objs=()
for cu in "$SRC"/*.cu "$HERE"/test/*.cu; do
  [ -e "$cu" ] || continue
  tu="$(basename "$cu" .cu)"
  case "$cu" in "$HERE"/test/*) tu="test_$tu" ;; esac
  objs+=("$OUT/obj/$tu.o")
  launch "$tu" build_tu "$cu" "$tu"
done
rt_build() {  # $1 = source, $2 = object (not instrumented)
  if [ -f "$2" ] && [ "$2" -nt "$1" ] && [ "$(stat -c %Y "$2")" -ge "$deps_time" ] \
     && [ "$2" -nt "$HERE/include/polyv_emu.h" ]; then return 0; fi
  "$CXX" "${BASE[@]}" -O2 -Wall -Wextra -Werror -c "$1" -o "$2"
}
launch runtime rt_build "$HERE/runtime/emu_runtime.cpp" "$OUT/rt/emu_runtime.o"
launch selftest_o rt_build "$HERE/test/emu_selftest.cpp" "$OUT/rt/emu_selftest.o"
launch bench_o rt_build "$HERE/test/emu_bench.cpp" "$OUT/rt/emu_bench.o"

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "[polyv emu] FAILED: ${names[$i]}" >&2
    cat "$logdir/${names[$i]}.log" >&2
    failed=1
  elif [ -s "$logdir/${names[$i]}.log" ]; then
    cat "$logdir/${names[$i]}.log"
  fi
done
[ "$failed" -eq 0 ] || exit 1

python3 "$HERE/gen_registry.py" table "$OUT/gen" "${objs[@]}" > "$OUT/gen/registry_table.cpp.new"
if ! cmp -s "$OUT/gen/registry_table.cpp.new" "$OUT/gen/registry_table.cpp" 2>/dev/null; then
  mv "$OUT/gen/registry_table.cpp.new" "$OUT/gen/registry_table.cpp"
else
  rm -f "$OUT/gen/registry_table.cpp.new"
fi
rt_build "$OUT/gen/registry_table.cpp" "$OUT/rt/registry_table.o"

rm -f "$OUT/libpolyv_emu_kernels.a"
ar rcs "$OUT/libpolyv_emu_kernels.a" "$OUT/rt/emu_runtime.o" "$OUT/rt/registry_table.o" "${objs[@]}"
"$CXX" -o "$OUT/emu_selftest" "$OUT/rt/emu_selftest.o" "$OUT/libpolyv_emu_kernels.a" -ldl -lpthread -lm
"$CXX" -o "$OUT/emu_bench" "$OUT/rt/emu_bench.o" "$OUT/libpolyv_emu_kernels.a" -ldl -lpthread -lm
end=$(date +%s.%N)
printf '[polyv emu] %d translation unit(s) -> %s/libpolyv_emu_kernels.a + emu_selftest in %.1f s (%s, CUDA headers %s)\n' \
  "${#objs[@]}" "$OUT" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$CXX" "$CUDA_INC"

if [ "$RUN_TEST" = "--test" ]; then
  "$OUT/emu_selftest"
fi
