#!/usr/bin/env bash
# Builds the emulated libcuda.so.1 / libcublas.so.13 and runs the driver tests: the symbol check, the C
# test (driver_test.c) and the JCuda smoke test (JCudaSmoke.java). One line per case; exits non-zero on
# any failure.
# Usage: run-tests.sh [ARCHIVE]   ARCHIVE: the kernel emulator's libpolyv_emu_kernels.a; without it, a fake
#                                 archive built from test/fake_emu.cpp (add_f32, emu_test_oob_write).
# Env: EMU_TEST_OUT (build folder, default a fresh temp folder), JAVA_HOME (default temurin 25),
#      M2 (default ~/.m2/repository).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
driver="$(dirname "$here")"
out="${EMU_TEST_OUT:-$(mktemp -d /tmp/polyv-emu-driver-test.XXXXXX)}"
mkdir -p "$out"
java_home="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
m2="${M2:-$HOME/.m2/repository}"
status=0

if [ $# -ge 1 ]; then
    archive="$1"
else
    g++ -O2 -fPIC -std=c++17 -c "$here/fake_emu.cpp" -o "$out/fake_emu.o" && ar rcs "$out/libfake_emu.a" "$out/fake_emu.o" \
        || { echo "FAIL build fake kernel archive"; exit 1; }
    archive="$out/libfake_emu.a"
fi
echo "kernel archive: $archive"
start=$(date +%s.%N)
if "$driver/build-driver.sh" "$archive" "$out" > "$out/build.log" 2>&1; then
    echo "ok build-driver.sh ($(echo "$(date +%s.%N) - $start" | bc | cut -c1-4) s)"
else
    echo "FAIL build-driver.sh:"; cat "$out/build.log"; exit 1
fi

# Every libcuda symbol JCuda 12.6.0 imports is defined (else the JVM dies with a symbol lookup error).
missing=$(nm -D --defined-only "$out/libcuda.so.1" | awk '{print $3}' | sort | comm -13 - <(sort "$driver/jcuda-12.6.0-driver-symbols.txt"))
if [ -z "$missing" ]; then echo "ok all $(wc -l < "$driver/jcuda-12.6.0-driver-symbols.txt") JCuda driver symbols exported"
else echo "FAIL symbols missing from libcuda.so.1: $missing"; status=1; fi

if gcc -O1 -Wall -o "$out/driver_test" "$here/driver_test.c" -L"$out" -l:libcuda.so.1 -l:libcublas.so.13 \
        -Wl,-rpath,"$out" -lm -lpthread; then
    "$out/driver_test" 2> "$out/driver_test.stderr" || status=1
else
    echo "FAIL compile driver_test.c"; status=1
fi

cp="$m2/org/jcuda/jcuda/12.6.0/jcuda-12.6.0.jar:$m2/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar"
if [ -x "$java_home/bin/java" ] && [ -f "$m2/org/jcuda/jcuda/12.6.0/jcuda-12.6.0.jar" ]; then
    # System.load of the stand-in before JCudaDriver: no LD_LIBRARY_PATH needed.
    "$java_home/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" "$here/JCudaSmoke.java" "$out" \
        2> "$out/jcuda.stderr" || { status=1; cat "$out/jcuda.stderr"; }
else
    echo "FAIL jcuda smoke: no java 25 at $java_home or no jcuda 12.6.0 jars under $m2"; status=1
fi
echo "driver tests: $([ $status -eq 0 ] && echo PASSED || echo FAILED) (build folder $out)"
exit $status
