#!/usr/bin/env bash
# The CUDA device check, v2: one script for the lent GPU machine (no Java, Maven or network there). It must
# say in one call which kernel and which case fails, and leave time for a restart and a rerun (15 minutes of
# machine time per session, starts included; one command at most 10 minutes).
#
# Call 1, correctness (GPU_CHECK_BUDGET_S, default 300 s; run(timeout_s=360)):
#   0. env        nvidia-smi, driver and CUDA versions, where libcuda/libcublas.so.13/libnvrtc.so.13 are and
#                 what POLYV_CUDA_LIB_DIR was, compute-sanitizer --version, xz (else python3 unpacks)
#   1. unpack     the carried JRE and golden models
#   2. probe      CudaProbe with -Dpolyv.cuda=real (the real driver, never the emulated one)
#   3. tests      each GPU test class in its own JVM, and each fused-kernel test (every PolyVKernelsGpuTest
#                 method, every CudaOpHarnessTest method after its "fused PolyV kernels" marker) in its own
#                 JVM: one sticky CUDA error (illegal address) poisons only its own JVM. CUDA_LAUNCH_BLOCKING=1,
#                 so an error is reported by the launch that caused it. Host-only tests are not run here.
#   4. cli        `polyv verify --backend cuda` on each bundled golden model; greedy `generate` cpu vs cuda
#                 (exact) vs cuda-bf16 (agreement reported) on tiny-a
#   5. sanitizer  compute-sanitizer memcheck and racecheck over the op harness and the four PolyV kernels with
#                 -Dpolyv.gpu.small=true (the real-size cases skip themselves)
#   6. bench      only when at least GPU_CHECK_BENCH_MIN_S (120) seconds are left: `bench kernels` (+ chart),
#                 `bench moe`, `bench e2e`
# Call 2, benchmarks only: GPU_CHECK_ONLY_BENCH=1 (budget default 360 s; run(timeout_s=420)).
# Every step runs under `timeout -k 5 -s QUIT` (a hung JVM prints a thread dump, then is killed) cut to what
# is left of the budget; every JVM writes its crash log (-XX:ErrorFile) beside its step log.
#
# What comes back (at most 8 files, none in folders): summary.txt (one line per step and unit, the first
# failure of each with its message, sanitizer error counts), logs.tar.gz (every step's full log, thread
# dumps, hs_err crash logs, sanitizer reports, the benchmark tables; rewritten after each step, so it is
# there even when the call is cut), kernels.json, moe.json, e2e.json, perf-gpu.png.
#
# Switches: GPU_CHECK_JAVA=<java> (use it instead of unpacking jre.tar.xz), GPU_CHECK_BUNDLE=<dir>, GPU_CHECK_SKIP_BENCH=1, GPU_CHECK_ONLY_BENCH=1, GPU_CHECK_SANITIZER=0, GPU_CHECK_CLI=0,
# GPU_CHECK_DRY_RUN=1 (runs nothing on a device: each step prints its command and reports a skip; also what
# happens where no GPU is found). Without a GPU, or without jre.tar.xz/.gpu-bundle in a dry run, every step
# reports a clean skip; exit status 0 all passed (or dry run), 1 some step failed, 3 no GPU (nothing checked).
#
# Prepare here (no GPU needed), in the checkout the session was started in:
#   ./polyv build && mvn -B -q -o -DskipTests test-compile
#   scripts/make-jre.sh                           # -> jre.tar.xz (ignored)
#   MODELS=tiny-a scripts/make-gpu-bundle.sh      # -> .gpu-bundle/ (ignored), prints the size that travels
#   GPU_CHECK_DRY_RUN=1 bash scripts/gpu-check.sh # here: every step lists its command and skips (seconds)
#   GPU_CHECK_EMULATED=1 bash scripts/gpu-check.sh # here: the whole correctness call on the emulated device (~2 min)
# Then one device call (tool `run`):
#   command: bash scripts/gpu-check.sh    carry: ["jre.tar.xz", ".gpu-bundle"]    timeout_s: 360
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/out/gpu-check}"
mkdir -p "$OUT"
B="${GPU_CHECK_BUNDLE:-$ROOT/.gpu-bundle}"
SUMMARY="$OUT/summary.txt"
ONLY_BENCH="${GPU_CHECK_ONLY_BENCH:-}"
DRY="${GPU_CHECK_DRY_RUN:-}"
# GPU_CHECK_EMULATED=1: a rehearsal on the emulated CUDA device (no GPU needed): every test, verify and generate step
# runs with -Dpolyv.cuda=emulated from the carried bundle and JRE, so the bundle and the plumbing are proven before
# device minutes are spent; the sanitizer and the benchmarks are skipped (they need a real device).
EMULATED="${GPU_CHECK_EMULATED:-}"
BUDGET="${GPU_CHECK_BUDGET_S:-$([ -n "$ONLY_BENCH" ] && echo 360 || echo 300)}"
BENCH_MIN="${GPU_CHECK_BENCH_MIN_S:-120}"
T_START=$(date +%s)
WORK="$(mktemp -d /tmp/polyv-gpu-check.XXXXXX)"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
trap 'rm -rf "$WORK"' EXIT
: >"$SUMMARY"
status=0
note() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(( $(date +%s) - T_START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
pack() {  # logs.tar.gz, rewritten whole (small) after each step so that a cut call still brings it back
  tar czf "$OUT/.logs.tar.gz.tmp" -C "$WORK" logs 2>/dev/null && mv -f "$OUT/.logs.tar.gz.tmp" "$OUT/logs.tar.gz"
}

# ---------------------------------------------------------------- 0. environment (a few seconds)
note "gpu-check v2 $(date -u +%FT%TZ) on $(hostname), budget ${BUDGET} s$([ -n "$DRY" ] && echo ', DRY RUN')$([ -n "$ONLY_BENCH" ] && echo ', benchmarks only')"
ENV_LOG="$LOGS/env.txt"
GPU=""
if [ -n "$DRY" ]; then
  NO_GPU="dry run (GPU_CHECK_DRY_RUN is set)"
elif [ -n "$EMULATED" ]; then
  NO_GPU=""; GPU="emulated CUDA device (GPU_CHECK_EMULATED rehearsal: logic only, no timing)"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  NO_GPU="no GPU: nvidia-smi not found"
elif ! GPU="$(timeout -k 2 5 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1)" || [ -z "$GPU" ]; then
  NO_GPU="no GPU: nvidia-smi failed: $(echo "$GPU" | head -1)"
  GPU=""
else
  NO_GPU=""
fi
{
  echo "== nvidia-smi"; timeout -k 2 5 nvidia-smi 2>&1 || echo "(nvidia-smi: not found or failed)"
  echo "== nvcc"; timeout -k 2 5 nvcc --version 2>&1 | tail -2 || echo "(nvcc: not found)"
  echo "== libraries (ldconfig)"; ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcublas(Lt)?\.so|libnvrtc' || echo "(none in ldconfig)"
  echo "== libraries (toolkit folders)"
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 /usr/lib/x86_64-linux-gnu; do
    [ -d "$d" ] && ls "$d" 2>/dev/null | grep -E '^lib(cublas|nvrtc)' | sed "s|^|$d/|"
  done
  echo "== compute-sanitizer"; timeout -k 2 5 compute-sanitizer --version 2>&1 || echo "(compute-sanitizer: not found)"
  echo "== uname"; uname -a; nproc; free -g 2>/dev/null | head -2
} >"$ENV_LOG" 2>&1
note "env: gpu ${GPU:-none} ($([ -n "$NO_GPU" ] && echo "$NO_GPU" || echo ok))"
cuda_v="$(grep -oE 'CUDA Version: [0-9.]+' "$ENV_LOG" | head -1 | cut -d' ' -f3)"; nvcc_v="$(grep -oE 'release [0-9.]+' "$ENV_LOG" | head -1 | cut -d' ' -f2)"
note "env: driver's CUDA ${cuda_v:-<none>}, nvcc ${nvcc_v:-<none>}"
find_lib() {  # find_lib SONAME: the first folder holding it (POLYV_CUDA_LIB_DIR, ldconfig, toolkit folders), or nothing
  local so="$1" d
  for d in ${POLYV_CUDA_LIB_DIR:-} $(ldconfig -p 2>/dev/null | awk -v s="$so" '$1 == s {print $NF}' | xargs -r -n1 dirname) \
           /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 /usr/lib/x86_64-linux-gnu; do
    [ -e "$d/$so" ] && { echo "$d"; return; }
  done
}
LIB_DIR_WAS="${POLYV_CUDA_LIB_DIR:-<unset>}"
CUBLAS_DIR="$(find_lib libcublas.so.13)"
NVRTC_DIR="$(find_lib libnvrtc.so.13)"
if [ -z "${POLYV_CUDA_LIB_DIR:-}" ] && [ -n "$NVRTC_DIR" ]; then
  export POLYV_CUDA_LIB_DIR="$NVRTC_DIR"                  # NVRTC also needs libnvrtc-builtins from its folder
  export LD_LIBRARY_PATH="$NVRTC_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
note "env: libcublas.so.13 in ${CUBLAS_DIR:-<not found>}, libnvrtc.so.13 in ${NVRTC_DIR:-<not found>}; POLYV_CUDA_LIB_DIR was $LIB_DIR_WAS, now ${POLYV_CUDA_LIB_DIR:-<unset>}"
SANITIZER="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)"
note "env: compute-sanitizer ${SANITIZER:-<not found>} $(grep -oE 'Version [0-9.]+' "$ENV_LOG" | head -1 || true); xz $(command -v xz >/dev/null && echo present || echo 'absent (python3 unpacks)')"

unpack() {  # unpack ARCHIVE DIR: tar xJf, or python3's tarfile where xz is absent
  if command -v xz >/dev/null 2>&1; then tar xJf "$1" -C "$2"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}

# ---------------------------------------------------------------- 1. unpack the JRE and the models
SKIP_ALL="$NO_GPU"       # the reason every device step skips, or empty
JAVA=""
if [ -n "${GPU_CHECK_JAVA:-}" ]; then                    # a java at hand (to try the plumbing here): nothing to unpack
  JAVA="$GPU_CHECK_JAVA"; note "step unpack: none, GPU_CHECK_JAVA=$JAVA"
elif [ ! -f "$ROOT/jre.tar.xz" ]; then
  if [ -n "$NO_GPU" ]; then note "step unpack: SKIPPED ($NO_GPU; no jre.tar.xz either)"
  else note "step unpack: FAIL, jre.tar.xz missing (carry it; make it with scripts/make-jre.sh)"; SKIP_ALL="no JRE"; status=1; fi
elif [ ! -d "$B/lib" ]; then
  if [ -n "$NO_GPU" ]; then note "step unpack: SKIPPED ($NO_GPU; no .gpu-bundle either)"
  else note "step unpack: FAIL, .gpu-bundle missing (carry it; make it with scripts/make-gpu-bundle.sh)"; SKIP_ALL="no bundle"; status=1; fi
elif [ -n "$DRY" ]; then
  note "step unpack: SKIPPED ($NO_GPU; jre.tar.xz and .gpu-bundle are here)"
else
  t0=$(date +%s)
  if unpack "$ROOT/jre.tar.xz" "$WORK" >>"$LOGS/unpack.txt" 2>&1; then
    JAVA="$WORK/jre/bin/java"
    for z in "$B"/shared/golden/*.tar.xz; do
      [ -e "$z" ] || continue
      d="$B/shared/golden/$(basename "$z" .tar.xz)"
      [ -d "$d" ] || unpack "$z" "$B/shared/golden" >>"$LOGS/unpack.txt" 2>&1 || note "step unpack: could not unpack $z"
    done
    note "step unpack: ok in $(( $(date +%s) - t0 )) s ($("$JAVA" -version 2>&1 | head -1))"
  else
    note "step unpack: FAIL, could not unpack jre.tar.xz (see unpack.txt)"; SKIP_ALL="no JRE"; status=1
  fi
fi
CP="$B/test-classes:$B/lib/*"                           # java -cp expands lib/*; JUnit's --class-path does not:
TCP="$B/test-classes$(ls "$B"/lib/*.jar 2>/dev/null | sed 's/^/:/' | tr -d '\n')"
CONSOLE="$(ls "$B"/junit/junit-platform-console-standalone-*.jar 2>/dev/null | head -1)"
JAVA="${JAVA:-$WORK/jre/bin/java}"                       # (a dry run logs the commands with these paths)
CONSOLE="${CONSOLE:-$B/junit/junit-platform-console-standalone.jar}"
JVM=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
     -Xss8m -Xmx16g -XX:+UseParallelGC -Dpolyv.cuda="$([ -n "$EMULATED" ] && echo emulated || echo real)" -Dpolyv.shared="$B/shared")

# step NAME CAP_S LOGFILE COMMAND...: runs with min(CAP_S, budget left) under `timeout -k 5 -s QUIT`, output
# (and the JVM's crash log, ErrorFile NAME.hs_err_<pid>.log) in the log folder; sets RC and STEP_S. A dry run
# or a missing GPU writes the command to the log and reports the skip.
RC=0; STEP_S=0
step() {
  local name="$1" cap="$2" log="$3"; shift 3
  local t0=$(date +%s) l=$(left)
  RC=0; STEP_S=0
  if [ -n "$SKIP_ALL" ]; then
    printf '%q ' "$@" >>"$log"; echo >>"$log"
    RC=-1; return
  fi
  if [ "$l" -lt 10 ]; then RC=-2; return; fi
  [ "$cap" -gt "$l" ] && cap="$l"
  timeout -k 5 -s QUIT "$cap" "$@" >>"$log" 2>&1
  RC=$?
  STEP_S=$(( $(date +%s) - t0 ))
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then RC=124; fi
}
# outcome NAME [DETAIL]: the summary line of the last step, from RC
outcome() {
  local name="$1" detail="${2:-}"
  case "$RC" in
    -1) note "SKIP    $name ($SKIP_ALL)";;
    -2) note "SKIP    $name (the ${BUDGET} s budget is spent)"; status=1;;
    0)  note "PASS    $name ${detail}(${STEP_S} s)";;
    124) note "TIMEOUT $name ${detail}(cut at ${STEP_S} s; thread dump in its log)"; status=1;;
    *)  note "FAIL    $name exit $RC ${detail}(${STEP_S} s)"; status=1;;
  esac
}
crashes() {  # crashes PREFIX: the problematic frame of each hs_err log of this step, into the summary
  local f
  for f in "$LOGS/$1".hs_err_*.log; do
    [ -e "$f" ] || continue
    note "        JVM crash ($(basename "$f")): $(grep -m1 -A1 'Problematic frame' "$f" | tail -1 | sed 's/^# *//')"
  done
}
hs() { echo "-XX:ErrorFile=$LOGS/$1.hs_err_%p.log"; }

# ---------------------------------------------------------------- 2. probe
if [ -z "$ONLY_BENCH" ]; then
  step probe 30 "$LOGS/probe.txt" "$JAVA" "${JVM[@]}" "$(hs probe)" -cp "$CP" ai.polyv.cuda.driver.CudaProbe
  if [ "$RC" -eq 0 ]; then
    line="$(grep -vE '^WARNING' "$LOGS/probe.txt" | tail -1)"
    case "$line" in available:*) note "PASS    probe: $line";; *) note "FAIL    probe: $line"; status=1; SKIP_ALL="the probe failed";; esac
  else outcome probe; [ "$RC" -gt 0 ] && SKIP_ALL="the probe failed"; fi      # the device steps would only repeat it
  pack
fi

# ---------------------------------------------------------------- 3. the GPU tests, one JVM per unit
# methods CLASSFILE [AFTER]: the @Test methods of a test source, in order (all, or those after the line
# matching AFTER). Read from the sources, which travel with the tracked files.
methods() {
  awk -v after="${2:-}" '
    after != "" && !on { if (index($0, after)) on = 1; next }
    /@(Test|ParameterizedTest|RepeatedTest)([^A-Za-z]|$)/ { want = 1; next }
    want && match($0, /void[ \t]+[A-Za-z0-9_]+[ \t]*\(/) { s = substr($0, RSTART, RLENGTH); sub(/void[ \t]+/, "", s); sub(/[ \t]*\(/, "", s); print s; want = 0 }
  ' "$1"
}
TEST_SRC=(cuda/src/test/java tests/src/test/java)
src_of() { local c="${1//.//}.java" d; for d in "${TEST_SRC[@]}"; do [ -f "$d/$c" ] && { echo "$d/$c"; return; }; done; }
HARNESS=ai.polyv.cuda.CudaOpHarnessTest
KERNELS=ai.polyv.cuda.kernels.PolyVKernelsGpuTest
FUSED_MARK="- fused PolyV kernels"   # the section comment "// ---- fused PolyV kernels" in CudaOpHarnessTest
# junit NAME CAP SELECTORS...: one JVM, JUnit console over the selected classes/methods
junit() {
  local name="$1" cap="$2"; shift 2
  local log="$LOGS/test-$name.txt" sel=() s
  for s in "$@"; do case "$s" in *"#"*) sel+=(--select-method "$s");; *) sel+=(--select-class "$s");; esac; done
  step "$name" "$cap" "$log" env CUDA_LAUNCH_BLOCKING=1 "$JAVA" "${JVM[@]}" "$(hs "test-$name")" -jar "$CONSOLE" execute \
    --class-path "$TCP" "${sel[@]}" --details=tree --disable-banner --disable-ansi-colors
  [ "$RC" -lt 0 ] && { outcome "$name"; return; }
  local ok failed aborted first
  ok=$(grep -oE '^\[ *[0-9]+ tests successful' "$log" | grep -oE '[0-9]+' | head -1)
  failed=$(grep -oE '^\[ *[0-9]+ tests failed' "$log" | grep -oE '[0-9]+' | head -1)
  aborted=$(grep -oE '^\[ *[0-9]+ tests aborted' "$log" | grep -oE '[0-9]+' | head -1)
  local counts="${ok:-?} ok, ${failed:-?} failed, ${aborted:-?} skipped "
  if [ "$RC" -eq 0 ] && [ "${ok:-0}" -eq 0 ] && [ "${aborted:-0}" -gt 0 ] && [ -n "$EMULATED" ]; then
    note "SKIP    $name: $(grep -m1 -oE 'Assumption failed: .*' "$log" | cut -c1-200)"
  elif [ "$RC" -eq 0 ] && [ "${ok:-0}" -eq 0 ] && [ "${aborted:-0}" -gt 0 ]; then
    note "FAIL    $name: every test skipped on a GPU machine: $(grep -m1 -oE 'Assumption failed: .*' "$log" | cut -c1-200)"; status=1
  else
    outcome "$name" "$counts"
  fi
  # the failures in the order they ran (the first is the one to fix: a sticky error fails the rest of its JVM)
  grep -E '✘|^[│ ]*\([0-9]+\) \[ERROR\]' "$log" | sed -E 's/^[│├└─ ]+//' | head -n 8 | cut -c1-300 | sed 's/^/        ✘ /' | tee -a "$SUMMARY"
  crashes "test-$name"
}
if [ -n "$ONLY_BENCH" ]; then
  note "steps probe, tests, cli, sanitizer: skipped (GPU_CHECK_ONLY_BENCH is set)"
elif [ -z "$SKIP_ALL" ] && [ ! -d "$B/test-classes" ]; then
  note "SKIP    tests (not in this bundle: TESTS=0)"
else
  junit CudaAvailabilityTest 30 ai.polyv.cuda.CudaAvailabilityTest; pack
  junit CublasLibraryTest 30 ai.polyv.cuda.driver.CublasLibraryTest; pack
  junit KernelSourcesTest 90 ai.polyv.cuda.driver.KernelSourcesTest; pack       # NVRTC: every op and the four PolyV kernels
  hsrc="$(src_of $HARNESS)"; ksrc="$(src_of $KERNELS)"
  if grep -qF -- "$FUSED_MARK" "$hsrc"; then
    plain=(); for m in $(methods "$hsrc" | head -n "$(awk -v m="$FUSED_MARK" 'index($0, m) {exit} /@(Test|ParameterizedTest|RepeatedTest)([^A-Za-z]|$)/ {n++} END {print n + 0}' "$hsrc")"); do plain+=("$HARNESS#$m"); done
    junit CudaOpHarnessTest 90 "${plain[@]}"; pack
    for m in $(methods "$hsrc" "$FUSED_MARK"); do junit "CudaOpHarnessTest#$m" 45 "$HARNESS#$m"; pack; done
  else
    note "        (no '$FUSED_MARK' marker in $hsrc: the op harness runs as one JVM)"
    junit CudaOpHarnessTest 150 "$HARNESS"; pack
  fi
  for m in $(methods "$ksrc"); do junit "PolyVKernelsGpuTest#$m" 45 "$KERNELS#$m"; pack; done
  junit CudaBatchDecodeTest 45 ai.polyv.cuda.CudaBatchDecodeTest; pack
  junit CudaGoldenVerifyTest 60 ai.polyv.cuda.CudaGoldenVerifyTest; pack
  junit CudaBf16GoldenTest 60 ai.polyv.cuda.CudaBf16GoldenTest; pack
  junit DeviceRandomWeightsTest 60 ai.polyv.cuda.DeviceRandomWeightsTest; pack
fi

# ---------------------------------------------------------------- 4. cli: verify and generate
POLYV=("$JAVA" "${JVM[@]}" -Djava.awt.headless=true -cp "$CP" ai.polyv.cli.Main)
if [ -z "$ONLY_BENCH" ] && [ "${GPU_CHECK_CLI:-1}" != 0 ]; then
  models=0
  for m in "$B"/shared/golden/*/; do
    [ -d "$m" ] || continue
    m="${m%/}"; n="$(basename "$m")"; models=$((models + 1))
    step "verify-$n" 60 "$LOGS/verify-$n.txt" env CUDA_LAUNCH_BLOCKING=1 "$JAVA" "${JVM[@]}" "$(hs "verify-$n")" -cp "$CP" ai.polyv.cli.Main \
      verify --model "$m" --backend cuda
    outcome "verify-$n" "$(grep -E 'tensors within tolerance|polyv verify:' "$LOGS/verify-$n.txt" | tail -n 1 | cut -c1-160) "
    crashes "verify-$n"; pack
  done
  [ "$models" -gt 0 ] || note "SKIP    verify (no unpacked golden model in ${B#"$ROOT"/}/shared/golden)"
  GEN_MODEL="$B/shared/golden/tiny-a"
  if [ -d "$GEN_MODEL" ] || [ -n "$SKIP_ALL" ]; then
    PROMPT="1,17,29,3,101,7,64,250,11,5,42,99,13,77,2,31"
    for be in cpu cuda cuda-bf16; do
      step "generate-$be" 40 "$LOGS/generate-$be.txt" env CUDA_LAUNCH_BLOCKING=1 "${POLYV[@]}" generate --model "$GEN_MODEL" \
        --prompt-ids "$PROMPT" --max-new-tokens 24 --backend "$be"
      [ "$RC" -eq 0 ] || outcome "generate-$be"
    done
    if [ -z "$SKIP_ALL" ]; then
      ids() { grep -E '^\[' "$LOGS/generate-$1.txt" 2>/dev/null | tail -n 1; }
      cpu_ids="$(ids cpu)"; cuda_ids="$(ids cuda)"; bf16_ids="$(ids cuda-bf16)"
      if [ -n "$cpu_ids" ] && [ "$cpu_ids" = "$cuda_ids" ]; then note "PASS    generate: cuda greedy ids equal the cpu ones ($cpu_ids)"
      else note "FAIL    generate: cuda greedy ids ${cuda_ids:-<none>} differ from the cpu ones ${cpu_ids:-<none>}"; status=1; fi
      if [ -n "$cpu_ids" ] && [ -n "$bf16_ids" ]; then
        read -r -a A <<<"$(echo "$cpu_ids" | tr -d '[],')"; read -r -a G <<<"$(echo "$bf16_ids" | tr -d '[],')"
        n=0; while [ "$n" -lt "${#A[@]}" ] && [ "$n" -lt "${#G[@]}" ] && [ "${A[$n]}" = "${G[$n]}" ]; do n=$((n + 1)); done
        note "        generate cuda-bf16 vs cpu: $n of ${#A[@]} leading ids agree (no exact rule in bf16)"
      fi
    fi
    pack
  else
    note "SKIP    generate (tiny-a not in this bundle)"
  fi
fi

# ---------------------------------------------------------------- 5. compute-sanitizer, small shapes
# -Dpolyv.gpu.small=true: the op harness and PolyVKernelsGpuTest skip their real-size cases (the sanitizer
# runs kernels 10-100 times slower). Errors per tool: "ERROR SUMMARY: N errors" (memcheck) and
# "RACECHECK SUMMARY: N hazards" (racecheck), first report lines into the summary.
if [ -n "$EMULATED" ]; then
  note "sanitizer: skipped (GPU_CHECK_EMULATED: compute-sanitizer needs a real device)"
elif [ -z "$ONLY_BENCH" ] && [ "${GPU_CHECK_SANITIZER:-1}" != 0 ]; then
  if [ -z "$SKIP_ALL" ] && [ -z "$SANITIZER" ]; then
    note "SKIP    sanitizer (compute-sanitizer not found)"
  elif [ -z "$SKIP_ALL" ] && [ ! -d "$B/test-classes" ]; then
    note "SKIP    sanitizer (no tests in this bundle: TESTS=0)"
  else
    for tool in memcheck racecheck; do
      for cls in "$HARNESS" "$KERNELS"; do
        name="$tool-${cls##*.}"
        rep="$LOGS/$name.report.txt"
        extra=(); [ "$tool" = memcheck ] && extra=(--leak-check no)
        step "$name" 60 "$LOGS/$name.txt" "${SANITIZER:-compute-sanitizer}" --tool "$tool" "${extra[@]}" --print-limit 50 \
          --log-file "$rep" --error-exitcode 42 "$JAVA" "${JVM[@]}" -Dpolyv.gpu.small=true "$(hs "$name")" \
          -jar "$CONSOLE" execute --class-path "$TCP" --select-class "$cls" --details=tree --disable-banner --disable-ansi-colors
        sumline="$(grep -hE '(ERROR|RACECHECK) SUMMARY' "$rep" 2>/dev/null | tail -1 | sed 's/^=* *//')"
        if [ "$RC" -eq 42 ]; then
          note "FAIL    $name: ${sumline:-errors found} (${STEP_S} s)"; status=1
          grep -hE '^=+ +(Invalid|Race|Error|Program hit|Warning|Uninitialized|Barrier)|^=+ +at .*(_v[0-9]|kernel)' "$rep" 2>/dev/null | head -n 6 | cut -c1-250 | sed 's/^=* */        /' | tee -a "$SUMMARY"
        else
          outcome "$name" "${sumline:+$sumline; }"
        fi
        crashes "$name"; pack
      done
    done
  fi
fi

# ---------------------------------------------------------------- 6. benchmarks (second call, or >= BENCH_MIN s left)
if [ -n "${GPU_CHECK_SKIP_BENCH:-}" ] || [ -n "$EMULATED" ]; then
  note "bench: skipped ($([ -n "$EMULATED" ] && echo 'GPU_CHECK_EMULATED: the benchmarks refuse the emulated device' || echo 'GPU_CHECK_SKIP_BENCH is set'))"
elif [ -z "$ONLY_BENCH" ] && [ -z "$SKIP_ALL" ] && [ "$(left)" -lt "$BENCH_MIN" ]; then
  note "bench: skipped, $(left) s left of ${BUDGET} (needs ${BENCH_MIN}): make a second call with GPU_CHECK_ONLY_BENCH=1"
else
  step bench-kernels 170 "$LOGS/kernels.md" "${POLYV[@]}" bench kernels --reps 30 --json "$OUT/kernels.json"
  outcome bench-kernels; crashes bench-kernels
  if [ -f "$OUT/kernels.json" ] || [ -n "$SKIP_ALL" ]; then
    step bench-chart 20 "$LOGS/chart.txt" "${POLYV[@]}" bench chart --json "$OUT/kernels.json" --out "$OUT/perf-gpu.png"
    outcome bench-chart
    [ -n "$SKIP_ALL" ] || [ -f "$OUT/perf-gpu.png" ] || note "        no PNG (see chart.txt); draw it here: ./polyv bench chart --json kernels.json --out docs/perf-gpu.png"
  fi
  step bench-moe 60 "$LOGS/moe.md" "${POLYV[@]}" bench moe --backend cuda-bf16 --tokens 1,256,4096 --max-seconds 20 --json "$OUT/moe.json"
  outcome bench-moe; crashes bench-moe
  step bench-e2e 90 "$LOGS/e2e.md" "${POLYV[@]}" bench e2e --config polyv-7b --random-weights --backend cuda-bf16 --batch 1,8 \
    --tokens 32 --runs 3 --json "$OUT/e2e.json"
  outcome bench-e2e; crashes bench-e2e
  grep -hE "^(image prefill|vision encoder|decode, batch)" "$LOGS/e2e.md" 2>/dev/null | sed 's/^/        /' | tee -a "$SUMMARY"
fi

# ---------------------------------------------------------------- end: what comes back
cp "$SUMMARY" "$LOGS/summary.txt" 2>/dev/null
pack
rm -f "$OUT/.logs.tar.gz.tmp"
files=$(find "$OUT" -type f | wc -l)
[ "$files" -le 8 ] || note "WARNING: $files files under \$OUT, at most 8 come back"
if [ -n "$NO_GPU" ] && [ -z "$DRY" ]; then
  note "gpu-check: NOTHING CHECKED ($NO_GPU) in $(elapsed) s"; exit 3
fi
note "gpu-check: $([ -n "$DRY" ] && echo 'DRY RUN, every step skipped' || { [ "$status" -eq 0 ] && echo 'ALL PASSED' || echo 'SOME STEPS FAILED'; }) in $(elapsed) s; $files files under \$OUT"
[ -n "$DRY" ] && exit 0
exit "$status"
