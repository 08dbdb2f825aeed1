#!/usr/bin/env bash
# Gathers what scripts/gpu-check.sh needs on the GPU machine (no Java, no Maven, no network there)
# into <repo>/.gpu-bundle (ignored by git):
#   lib/           the cli jar and its dependencies, with jcuda-natives cut down to the driver
#                  binding (libJCudaDriver only: 0.5 MB instead of 9.5 MB), and the JUnit console
#   test-classes/  the test classes of every module (the GPU tests run from there; they use the
#                  core/train test fixtures)
#   shared/golden/<model>.tar.xz  the golden models named in MODELS (default: tiny-a), xz-packed
#                  (tiny-a 19 MB -> ~17 MB, tiny-c 50 MB -> 36 MiB); gpu-check.sh unpacks them
# With TESTS=0 the JUnit console and the test classes are left out (verify + benchmarks only), which
# is what lets tiny-c travel:  TESTS=0 MODELS=tiny-c scripts/make-gpu-bundle.sh
# Then prints the size of everything that travels (tracked files + jre.tar.xz + .gpu-bundle), which
# must stay under 64 MiB. Usage: ./polyv build && scripts/make-jre.sh && MODELS=tiny-a scripts/make-gpu-bundle.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${POLYV_SHARED:-$ROOT/../shared}"
MODELS="${MODELS:-tiny-a}"
TESTS="${TESTS:-1}"
JUNIT_VERSION=1.13.4
B="$ROOT/.gpu-bundle"
JAR="$ROOT/cli/target/polyv-cli-0.1.0-SNAPSHOT.jar"
TEST_MODULES="loader core cuda train tests"
[ -f "$JAR" ] && [ -d "$ROOT/cli/target/lib" ] && [ -d "$ROOT/cuda/target/test-classes" ] \
  || { echo "make-gpu-bundle: build first (./polyv build, then mvn -o -DskipTests test-compile)" >&2; exit 1; }
[ -f "$ROOT/jre.tar.xz" ] || { echo "make-gpu-bundle: run scripts/make-jre.sh first" >&2; exit 1; }
rm -rf "$B"
mkdir -p "$B/lib" "$B/shared/golden"
cp "$JAR" "$B/lib/"
for j in "$ROOT"/cli/target/lib/*.jar; do
  case "$(basename "$j")" in
    jcuda-natives-*) ;;
    *) cp "$j" "$B/lib/" ;;
  esac
done
# jcuda-natives without the PTX compiler, NVRTC and runtime bindings we do not use
natives="$(ls "$ROOT"/cli/target/lib/jcuda-natives-*.jar)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$natives" 'lib/libJCudaDriver-*' 'META-INF/MANIFEST.MF' && zip -q -r -9 "$B/lib/$(basename "$natives")" lib META-INF)
if [ "$TESTS" = 1 ]; then
# JUnit console launcher (runs the test classes without Maven)
CONSOLE="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$JUNIT_VERSION/junit-platform-console-standalone-$JUNIT_VERSION.jar"
if [ ! -f "$CONSOLE" ]; then
  mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_VERSION" >/dev/null
fi
mkdir -p "$B/junit"
cp "$CONSOLE" "$B/junit/"
mkdir -p "$B/test-classes"
for m in $TEST_MODULES; do cp -r "$ROOT/$m/target/test-classes/." "$B/test-classes/"; done
# the shared test fixtures (SharedData: where ../shared is) are the test-support module's main classes
cp -r "$ROOT/test-support/target/classes/." "$B/test-classes/"
fi
for m in $MODELS; do
  [ -d "$SHARED/golden/$m" ] || { echo "make-gpu-bundle: no $SHARED/golden/$m" >&2; exit 1; }
  (cd "$SHARED/golden" && tar cf - "$m" | xz -T0 -6 > "$B/shared/golden/$m.tar.xz")
done
tracked=$(cd "$ROOT" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
jre=$(stat -c %s "$ROOT/jre.tar.xz")
bundle=$(du -sb "$B" | cut -f1)
total=$((tracked + jre + bundle))
mib() { awk -v t="$1" 'BEGIN { printf "%.1f", t / 1048576 }'; }
echo "make-gpu-bundle: tracked $(mib "$tracked") MiB + jre.tar.xz $(mib "$jre") MiB + .gpu-bundle $(mib "$bundle") MiB (models: $MODELS) = $(mib "$total") MiB of 64"
if [ "$total" -gt $((63 * 1048576)) ]; then
  echo "make-gpu-bundle: too large to travel (64 MiB limit): use fewer MODELS" >&2
  exit 1
fi
