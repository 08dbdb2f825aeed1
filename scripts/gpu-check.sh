#!/usr/bin/env bash
# The CUDA device check: one script for the lent GPU machine (no Java, Maven or network there), one
# call, everything under $OUT, finished well within 7 minutes (a watchdog cuts every step to what is
# left of GPU_CHECK_BUDGET_S, default 390 s). Steps:
#   1. tests.txt    every GPU test class in ai.polyv.cuda (JUnit console): the op harness
#                   (CudaOpHarnessTest, fp32 and the fused bf16 paths), PolyVKernelsGpuTest (fast and
#                   reference kernels), CudaGoldenVerifyTest (fp32 golden 1e-4) and CudaBf16GoldenTest
#                   (bf16 golden rule, fused kernels asserted to have run), CudaBatchDecodeTest (golden ids
#                   decoded in batches of 5 and 2), plus the host-only cuda tests
#   2. verify.txt   `polyv verify --backend cuda` on every bundled golden model
#   3. generate.txt `polyv generate --prompt-ids ... --backend {cpu,cuda,cuda-bf16}` on tiny-a: greedy ids,
#                   cuda must equal cpu exactly; cuda-bf16's agreement is reported (no exact rule in bf16)
#   4. kernels.md/.json  `polyv bench kernels`: ceilings measured first (device copy, cuBLAS GEMM 8192^3 bf16
#                     and fp32), every backend op at PolyV shapes (fp32, and bf16 with the fused paths) and the
#                     four PolyV kernels alone (router, permutation + combine, experts at 1/8/256/4096 tokens,
#                     window attention 5184 patches 16 x 80), one table with GPU.md's PyTorch medians
#      perf-gpu.png   `polyv bench chart` of kernels.json (needs java.desktop in the JRE and a font on the
#                     machine; if it fails, fetch kernels.json and run the same command on the dev machine)
#   5. moe.md/.json   `polyv bench moe --backend cuda-bf16 --tokens 1,256,4096`: the MoE stages and the fused layer
#   6. e2e.md/.json   `polyv bench e2e --config polyv-7b --random-weights --backend cuda-bf16`: 448x448 image
#                     prefill, vision encoder, decode tokens/s (weights made on the device)
# Steps 4-6 run while budget is left (each is cut to what remains); GPU_CHECK_SKIP_BENCH=1 skips them,
# GPU_CHECK_ONLY_BENCH=1 runs only them (a second call when the tests used the budget up).
# summary.txt collects the one-line result of each step. (No JUnit XML: it needs java.xml, which the
# trimmed JRE leaves out.)
#
# Prepare here (no GPU needed), in the checkout the session was started in:
#   ./polyv build && mvn -B -q -o -DskipTests test-compile
#   scripts/make-jre.sh                           # -> jre.tar.xz (ignored)
#   MODELS=tiny-a scripts/make-gpu-bundle.sh      # -> .gpu-bundle/ (ignored), prints the size that travels
# Then one device call (tool `run`):
#   command:   bash scripts/gpu-check.sh
#   carry:     ["jre.tar.xz", ".gpu-bundle"]
#   timeout_s: 420
# tiny-c (50 MB, 36 MiB packed) does not fit beside tiny-a and the tests under the 64 MiB limit: for
# it, rebuild the JRE without the chart's module (`DESKTOP=0 scripts/make-jre.sh`) and the bundle with
# `TESTS=0 MODELS=tiny-c scripts/make-gpu-bundle.sh`, and make a second
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

# 1. the CUDA tests (every class in ai.polyv.cuda and its subpackages), JUnit console launcher
if [ -n "${GPU_CHECK_ONLY_BENCH:-}" ]; then
  note "steps 1-3 (tests, verify, generate): skipped, GPU_CHECK_ONLY_BENCH is set"
elif [ -d "$B/test-classes" ]; then
  : >"$OUT/tests.txt"
  step tests 170 "$OUT/tests.txt" "$JAVA" "${FLAGS[@]}" -jar "$B"/junit/junit-platform-console-standalone-*.jar execute \
    --class-path "$B/test-classes:$(ls "$B"/lib/*.jar | tr '\n' ':')" \
    --scan-classpath "$B/test-classes" --include-package ai.polyv.cuda --details=tree --disable-banner --disable-ansi-colors
  grep -E "^\[ *[0-9]+ tests (successful|failed|skipped|aborted)" "$OUT/tests.txt" | tee -a "$SUMMARY"
  grep -E "✘" "$OUT/tests.txt" | head -n 20 | tee -a "$SUMMARY"                      # failures, by name
  grep -oE "Assumption failed: .*" "$OUT/tests.txt" | sort | uniq -c | tee -a "$SUMMARY"  # skip reasons, counted
else
  note "step tests: not in this bundle (TESTS=0)"
fi

# 2. polyv verify --backend cuda (fp32, golden 1e-4) on every bundled golden model
[ -n "${GPU_CHECK_ONLY_BENCH:-}" ] || : >"$OUT/verify.txt"
for m in "$B"/shared/golden/*/; do
  [ -z "${GPU_CHECK_ONLY_BENCH:-}" ] || break
  [ -d "$m" ] || continue
  m="${m%/}"
  echo "== $(basename "$m")" >>"$OUT/verify.txt"
  step "verify-$(basename "$m")" 60 "$OUT/verify.txt" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.cli.Main verify --model "$m" --backend cuda
  grep -E "tensors within tolerance|polyv verify:" "$OUT/verify.txt" | tail -n 1 | tee -a "$SUMMARY"
done

# 3. polyv generate, greedy, on tiny-a: cpu vs cuda (exact) vs cuda-bf16 (reported)
GEN_MODEL="$B/shared/golden/tiny-a"
if [ -n "${GPU_CHECK_ONLY_BENCH:-}" ]; then
  :
elif [ -d "$GEN_MODEL" ]; then
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

# 4-6. benchmarks: `polyv bench kernels` (one table, ceilings measured in the same run), its chart, the MoE
# layer and the real-size end-to-end run; JSON files (written atomically) and the printed tables under $OUT
if [ -z "${GPU_CHECK_SKIP_BENCH:-}" ]; then
  POLYV=("$JAVA" "${FLAGS[@]}" -Djava.awt.headless=true -cp "$CP" ai.polyv.cli.Main)
  : >"$OUT/kernels.md"
  step bench-kernels 170 "$OUT/kernels.md" "${POLYV[@]}" bench kernels --reps 30 --json "$OUT/kernels.json"
  if [ -f "$OUT/kernels.json" ]; then
    : >"$OUT/chart.txt"
    step bench-chart 20 "$OUT/chart.txt" "${POLYV[@]}" bench chart --json "$OUT/kernels.json" --out "$OUT/perf-gpu.png"
    [ -f "$OUT/perf-gpu.png" ] || note "bench-chart: no PNG (see chart.txt); draw it here: ./polyv bench chart --json kernels.json --out docs/perf-gpu.png"
  fi
  : >"$OUT/moe.md"
  step bench-moe 60 "$OUT/moe.md" "${POLYV[@]}" bench moe --backend cuda-bf16 --tokens 1,256,4096 --max-seconds 20 --json "$OUT/moe.json"
  : >"$OUT/e2e.md"
  step bench-e2e 90 "$OUT/e2e.md" "${POLYV[@]}" bench e2e --config polyv-7b --random-weights --backend cuda-bf16 --batch 1,8 \
    --tokens 32 --runs 3 --json "$OUT/e2e.json"
  grep -E "^(image prefill|vision encoder|decode, batch)" "$OUT/e2e.md" | tee -a "$SUMMARY"
fi
note "gpu-check: $([ "$status" -eq 0 ] && echo ALL PASSED || echo SOME STEPS FAILED) in $(( $(date +%s) - T_START )) s"
exit "$status"
