#!/usr/bin/env bash
# The CUDA device check: one script for the lent GPU machine (no Java, Maven or network there), one
# call, everything under $OUT, finished well within 7 minutes (a watchdog cuts every step to what is
# left of GPU_CHECK_BUDGET_S, default 390 s). Steps:
#   1. tests.txt    every GPU test class in ai.polyv.runtime.cuda (JUnit console): the op harness
#                   (CudaOpHarnessTest, fp32 and the fused bf16 paths), PolyVKernelsGpuTest (fast and
#                   reference kernels), CudaGoldenVerifyTest (fp32 golden 1e-4) and CudaBf16GoldenTest
#                   (bf16 golden rule, fused kernels asserted to have run), plus the host-only cuda tests
#   2. verify.txt   `polyv verify --backend cuda` on every bundled golden model
#   3. generate.txt `polyv generate --prompt-ids ... --backend {cpu,cuda,cuda-bf16}` on tiny-a: greedy ids,
#                   cuda must equal cpu exactly; cuda-bf16's agreement is reported (no exact rule in bf16)
#   4. bench.md/.csv  CudaKernelBench (every backend op at PolyV shapes, fused bf16 ops included) and
#      kernels.md     KernelBench (the four PolyV kernels alone: router, permutation + combine, experts at
#                     1/8/256/4096 tokens, window attention 5184 patches 16 x 80), with GPU.md's PyTorch numbers
# summary.txt collects the one-line result of each step. (No JUnit XML: it needs java.xml, which the
# trimmed JRE leaves out.)
#
# Prepare here (no GPU needed), in the checkout the session was started in:
#   ./polyv build && mvn -B -q -o -DskipTests test-compile -pl runtime -am
#   scripts/make-jre.sh                           # -> jre.tar.xz (ignored)
#   MODELS=tiny-a scripts/make-gpu-bundle.sh      # -> .gpu-bundle/ (ignored), prints the size that travels
# Then one device call (tool `run`):
#   command:   bash scripts/gpu-check.sh
#   carry:     ["jre.tar.xz", ".gpu-bundle"]
#   timeout_s: 420
# tiny-c (50 MB, 36 MiB packed) does not fit beside tiny-a and the tests under the 64 MiB limit: for
# it, rebuild the bundle with `TESTS=0 MODELS=tiny-c scripts/make-gpu-bundle.sh` and make a second
# call with the same carry and command `GPU_CHECK_SKIP_BENCH=1 bash scripts/gpu-check.sh` (verify only;
# its bf16 golden test and window_attention_v2 on a real model need the tests in the bundle: see
# the report of branch cudawire).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/out/gpu-check}"
mkdir -p "$OUT"
B="$ROOT/.gpu-bundle"
SUMMARY="$OUT/summary.txt"
BUDGET="${GPU_CHECK_BUDGET_S:-390}"
T_START=$(date +%s)
: >"$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }

note "gpu-check $(date -u +%FT%TZ) on $(hostname), budget ${BUDGET} s"
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi failed";
  ldconfig -p 2>/dev/null | grep -E 'libcuda\.so\.1|libcublas\.so|libnvrtc\.so' ; } | tee -a "$SUMMARY"

[ -f "$ROOT/jre.tar.xz" ] || { note "FAIL: jre.tar.xz missing (carry it; make it with scripts/make-jre.sh)"; exit 1; }
[ -d "$B/lib" ] || { note "FAIL: .gpu-bundle missing (carry it; make it with scripts/make-gpu-bundle.sh)"; exit 1; }
JRE_DIR="$(mktemp -d /tmp/polyv-jre.XXXXXX)"
trap 'rm -rf "$JRE_DIR"' EXIT
tar xJf "$ROOT/jre.tar.xz" -C "$JRE_DIR" || { note "FAIL: could not unpack jre.tar.xz"; exit 1; }
JAVA="$JRE_DIR/jre/bin/java"
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
       -Xss8m -Xmx16g -XX:+UseParallelGC -Dpolyv.shared="$B/shared")
note "java: $("$JAVA" -version 2>&1 | head -1)"
for z in "$B"/shared/golden/*.tar.xz; do
  [ -e "$z" ] || continue
  tar xJf "$z" -C "$B/shared/golden" || { note "FAIL: could not unpack $z"; exit 1; }
done
CP="$B/lib/*"
status=0
step() {  # step NAME SECONDS LOGFILE COMMAND... : runs with min(SECONDS, budget left), output appended to LOGFILE
  local name="$1" limit="$2" log="$3"; shift 3
  local t0=$(date +%s) left=$(( BUDGET - ($(date +%s) - T_START) ))
  if [ "$left" -lt 10 ]; then note "step $name: SKIPPED, the ${BUDGET} s budget is spent"; status=1; return; fi
  [ "$limit" -gt "$left" ] && limit="$left"
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  note "step $name: exit $rc in $(( $(date +%s) - t0 )) s (limit $limit s)$([ "$rc" -eq 124 ] && echo ', TIMED OUT')"
  [ "$rc" -eq 0 ] || status=1
}

# 1. the CUDA tests (every class in ai.polyv.runtime.cuda and its subpackages), JUnit console launcher
if [ -d "$B/test-classes" ]; then
  : >"$OUT/tests.txt"
  step tests 170 "$OUT/tests.txt" "$JAVA" "${FLAGS[@]}" -jar "$B"/junit/junit-platform-console-standalone-*.jar execute \
    --class-path "$B/test-classes:$(ls "$B"/lib/*.jar | tr '\n' ':')" \
    --scan-classpath "$B/test-classes" --include-package ai.polyv.runtime.cuda --details=tree --disable-banner --disable-ansi-colors
  grep -E "^\[ *[0-9]+ tests (successful|failed|skipped|aborted)" "$OUT/tests.txt" | tee -a "$SUMMARY"
  grep -E "✘" "$OUT/tests.txt" | head -n 20 | tee -a "$SUMMARY"                      # failures, by name
  grep -oE "Assumption failed: .*" "$OUT/tests.txt" | sort | uniq -c | tee -a "$SUMMARY"  # skip reasons, counted
else
  note "step tests: not in this bundle (TESTS=0)"
fi

# 2. polyv verify --backend cuda (fp32, golden 1e-4) on every bundled golden model
: >"$OUT/verify.txt"
for m in "$B"/shared/golden/*/; do
  [ -d "$m" ] || continue
  m="${m%/}"
  echo "== $(basename "$m")" >>"$OUT/verify.txt"
  step "verify-$(basename "$m")" 60 "$OUT/verify.txt" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.cli.Main verify --model "$m" --backend cuda
  grep -E "tensors within tolerance|polyv verify:" "$OUT/verify.txt" | tail -n 1 | tee -a "$SUMMARY"
done

# 3. polyv generate, greedy, on tiny-a: cpu vs cuda (exact) vs cuda-bf16 (reported)
GEN_MODEL="$B/shared/golden/tiny-a"
if [ -d "$GEN_MODEL" ]; then
  : >"$OUT/generate.txt"
  PROMPT="1,17,29,3,101,7,64,250,11,5,42,99,13,77,2,31"
  for be in cpu cuda cuda-bf16; do
    echo "== $be" >>"$OUT/generate.txt"
    step "generate-$be" 40 "$OUT/generate.txt" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.cli.Main generate --model "$GEN_MODEL" \
      --prompt-ids "$PROMPT" --max-new-tokens 24 --backend "$be"
  done
  ids() { awk -v b="== $1" '$0 == b {on = 1; next} /^== / {on = 0} on && /^\[/' "$OUT/generate.txt" | tail -n 1; }
  cpu_ids="$(ids cpu)"; cuda_ids="$(ids cuda)"; bf16_ids="$(ids cuda-bf16)"
  note "generate cpu:       ${cpu_ids:-<none>}"
  note "generate cuda:      ${cuda_ids:-<none>}"
  note "generate cuda-bf16: ${bf16_ids:-<none>}"
  if [ -n "$cpu_ids" ] && [ "$cpu_ids" = "$cuda_ids" ]; then note "generate: cuda greedy ids equal the cpu ones"
  else note "generate: FAIL, cuda greedy ids differ from the cpu ones (or are missing)"; status=1; fi
  if [ -n "$cpu_ids" ] && [ -n "$bf16_ids" ]; then
    read -r -a A <<<"$(echo "$cpu_ids" | tr -d '[],')"
    read -r -a G <<<"$(echo "$bf16_ids" | tr -d '[],')"
    n=0
    while [ "$n" -lt "${#A[@]}" ] && [ "$n" -lt "${#G[@]}" ] && [ "${A[$n]}" = "${G[$n]}" ]; do n=$((n + 1)); done
    agree="$n of ${#A[@]} leading ids agree"
    note "generate cuda-bf16 vs cpu: $agree"
  fi
else
  note "step generate: tiny-a not in this bundle"
fi

# 4. kernel benchmarks (CUDA events, medians, fraction of the measured ceilings)
if [ -z "${GPU_CHECK_SKIP_BENCH:-}" ]; then
  : >"$OUT/bench.md"
  step bench-backend 100 "$OUT/bench.md" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.runtime.cuda.bench.CudaKernelBench "$OUT/bench.csv" 30
  : >"$OUT/kernels.md"
  step bench-kernels 60 "$OUT/kernels.md" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.runtime.cuda.kernels.KernelBench --reps 30
fi
note "gpu-check: $([ "$status" -eq 0 ] && echo ALL PASSED || echo SOME STEPS FAILED) in $(( $(date +%s) - T_START )) s"
exit "$status"
