#!/usr/bin/env bash
# Builds the emulated CUDA libraries: OUT_DIR/libcuda.so.1 (this driver + the kernel emulator's archive,
# whole-archive so its kernel registry's static constructors are kept) and OUT_DIR/libcublas.so.13.
# Usage: build-driver.sh ARCHIVE OUT_DIR     (ARCHIVE: libpolyv_emu_kernels.a, position-independent objects)
# Env: CXX (default g++), EMU_DRIVER_CXXFLAGS (default -O2).
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 ARCHIVE OUT_DIR" >&2; exit 2; fi
here="$(cd "$(dirname "$0")" && pwd)"
archive="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="$2"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cxx="${CXX:-g++}"
flags="${EMU_DRIVER_CXXFLAGS:--O2} -std=c++17 -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
obj="$out/obj"
mkdir -p "$obj"

# Only the CUDA API (cu*, cublas*) and the polyv_emu_* entry points are exported.
cat > "$obj/libcuda.map" <<'MAP'
{ global: cu*; polyv_emu_*; local: *; };
MAP
cat > "$obj/libcublas.map" <<'MAP'
{ global: cublas*; local: *; };
MAP

$cxx $flags -c "$here/cuda_driver_emu.cpp" -o "$obj/cuda_driver_emu.o" &
$cxx $flags -c "$here/cuda_driver_stubs.cpp" -o "$obj/cuda_driver_stubs.o" &
$cxx $flags -c "$here/cublas_emu.cpp" -o "$obj/cublas_emu.o" &
wait %1 && wait %2 && wait %3

$cxx -shared -o "$out/libcuda.so.1" -Wl,-soname,libcuda.so.1 -Wl,--version-script="$obj/libcuda.map" \
    "$obj/cuda_driver_emu.o" "$obj/cuda_driver_stubs.o" \
    -Wl,--whole-archive "$archive" -Wl,--no-whole-archive -Wl,--no-undefined -lpthread -ldl
ln -sf libcuda.so.1 "$out/libcuda.so"
# libcublas needs libcuda.so.1 (the driver's polyv_emu_driver_* entry points): found next to it ($ORIGIN)
# or, when the JVM already loaded the driver, by its soname.
$cxx -shared -o "$out/libcublas.so.13" -Wl,-soname,libcublas.so.13 -Wl,--version-script="$obj/libcublas.map" \
    "$obj/cublas_emu.o" -L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN' -Wl,--no-undefined -lpthread
echo "built $out/libcuda.so.1 $out/libcublas.so.13"
