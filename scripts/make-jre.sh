#!/usr/bin/env bash
# Builds the trimmed Java 25 runtime that travels to the GPU machine (which has no Java):
# <repo>/jre.tar.xz (ignored by git). The jimage is left uncompressed (zip-0) so that xz packs it
# better: ~14 MB instead of ~20 MB with zip-9. Modules: what the jars need for verify, the tests and
# the benchmarks (jdeps: java.base; JCuda: java.logging; Vector API; jdk.unsupported; JMH:
# java.management; `polyv bench chart`: java.desktop, +8 MB packed, ~22 MB in all; DESKTOP=0 leaves it out,
# e.g. for the tiny-c bundle, which needs the room and skips the benchmarks).
# Usage: [DESKTOP=0] scripts/make-jre.sh   (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JDK="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
"$JDK/bin/java" -version 2>&1 | head -1 | grep -q '"25' || { echo "make-jre: $JDK is not a JDK 25" >&2; exit 1; }
MODULES=java.base,java.logging,jdk.unsupported,jdk.incubator.vector,java.management,jdk.management,jdk.httpserver,java.net.http
[ "${DESKTOP:-1}" = 0 ] || MODULES="$MODULES,java.desktop"
tmp="$(mktemp -d "$ROOT/.jre-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$JDK/bin/jlink" --add-modules "$MODULES" --strip-java-debug-attributes \
  --strip-native-debug-symbols=objcopy=/usr/bin/objcopy --no-header-files --no-man-pages \
  --compress=zip-0 --output "$tmp/jre"
(cd "$tmp" && tar cf - jre | xz -T0 -6 > "$tmp/jre.tar.xz")
mv -f "$tmp/jre.tar.xz" "$ROOT/jre.tar.xz"
echo "make-jre: $ROOT/jre.tar.xz ($(du -h "$ROOT/jre.tar.xz" | cut -f1), modules $MODULES)"
