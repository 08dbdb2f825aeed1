#!/usr/bin/env bash
# The CUDA backend's device check: one script for the lent GPU machine (no Java, Maven or network
# there). It unpacks the trimmed JRE, runs the CUDA tests (op harness against the CPU backend,
# availability, NVRTC compile of every kernel, cuBLAS status names, memory pool, golden verify on
# CUDA), `polyv verify --backend cuda` on each bundled golden model, and the kernel benchmarks,
# writing everything under $OUT (5 files: summary.txt, tests.txt, verify.txt, bench.md, bench.csv).
# (No JUnit XML report: it needs the java.xml module, which the trimmed JRE leaves out.)
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
# call with the same carry and command `GPU_CHECK_SKIP_BENCH=1 bash scripts/gpu-check.sh` (verify only).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/out/gpu-check}"
mkdir -p "$OUT"
B="$ROOT/.gpu-bundle"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY"; }

note "gpu-check $(date -u +%FT%TZ) on $(hostname)"
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi failed";
  ldconfig -p 2>/dev/null | grep -E 'libcuda\.so\.1|libcublas\.so|libnvrtc\.so' ; } | tee -a "$SUMMARY"

[ -f "$ROOT/jre.tar.xz" ] || { note "FAIL: jre.tar.xz missing (carry it; make it with scripts/make-jre.sh)"; exit 1; }
[ -d "$B/lib" ] || { note "FAIL: .gpu-bundle missing (carry it; make it with scripts/make-gpu-bundle.sh)"; exit 1; }
JRE_DIR="$(mktemp -d /tmp/polyv-jre.XXXXXX)"
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
step() {  # step NAME SECONDS LOGFILE COMMAND... : runs with a time limit, output appended to LOGFILE
  local name="$1" limit="$2" log="$3"; shift 3
  local t0=$(date +%s)
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  note "step $name: exit $rc in $(( $(date +%s) - t0 )) s"
  [ "$rc" -eq 0 ] || status=1
}

# 1. the CUDA tests (every class in ai.polyv.runtime.cuda), run by the JUnit console launcher
if [ -d "$B/test-classes" ]; then
: >"$OUT/tests.txt"
step tests 240 "$OUT/tests.txt" "$JAVA" "${FLAGS[@]}" -jar "$B"/junit/junit-platform-console-standalone-*.jar execute \
  --class-path "$B/test-classes:$B/lib/polyv-runtime-0.1.0-SNAPSHOT.jar:$(ls "$B"/lib/*.jar | tr '\n' ':')" \
  --scan-classpath "$B/test-classes" --include-package ai.polyv.runtime.cuda --details=tree --disable-banner --disable-ansi-colors
grep -E "tests (successful|failed|skipped|aborted)" "$OUT/tests.txt" | tee -a "$SUMMARY"
else
  note "step tests: not in this bundle (TESTS=0)"
fi

# 2. polyv verify --backend cuda on every bundled golden model
: >"$OUT/verify.txt"
for m in "$B"/shared/golden/*/; do
  m="${m%/}"
  echo "== $(basename "$m")" >>"$OUT/verify.txt"
  step "verify-$(basename "$m")" 240 "$OUT/verify.txt" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.cli.Main verify --model "$m" --backend cuda
  grep -E "tensors within tolerance|polyv verify:" "$OUT/verify.txt" | tail -n 1 | tee -a "$SUMMARY"
done

# 3. kernel benchmarks (CUDA events, medians, fraction of the measured ceilings)
if [ -z "${GPU_CHECK_SKIP_BENCH:-}" ]; then
  : >"$OUT/bench.md"
  step bench 240 "$OUT/bench.md" "$JAVA" "${FLAGS[@]}" -cp "$CP" ai.polyv.runtime.cuda.bench.CudaKernelBench "$OUT/bench.csv" 50
fi
note "gpu-check: $([ "$status" -eq 0 ] && echo ALL PASSED || echo SOME STEPS FAILED)"
exit "$status"
