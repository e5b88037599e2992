#!/usr/bin/env bash
# Builds simdjson (the amalgamation shipped in the npm package @nozbe/simdjson) and shim.cpp into
# bench/.build/simdjson.wasm with Debian's clang 16 for wasm32-wasi: -O3, wasm SIMD enabled.
# Toolchain: apt-get install clang-16 lld-16 libclang-rt-16-dev-wasm32 wasi-libc libc++-16-dev-wasm32 libc++abi-16-dev-wasm32
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$root/node_modules/@nozbe/simdjson/src"
out="$root/bench/.build"
cxx="${SIMDJSON_CXX:-clang++-16}"
command -v "$cxx" >/dev/null || { echo "simdjson build: $cxx not found (see the toolchain line in $0)" >&2; exit 3; }
[ -f "$src/simdjson.cpp" ] || { echo "simdjson build: $src/simdjson.cpp missing (npm ci installs @nozbe/simdjson)" >&2; exit 3; }
mkdir -p "$out"
# reactor: no main, _initialize runs the constructors; exceptions and RTTI off as simdjson allows
"$cxx" --target=wasm32-wasi -mexec-model=reactor -O3 -msimd128 -std=c++17 \
  -fno-exceptions -fno-rtti -DSIMDJSON_EXCEPTIONS=0 -DNDEBUG \
  -isystem /usr/include/wasm32-wasi/c++/v1 -I "$src" \
  -Wl,--export=_initialize -Wl,--export-memory \
  -o "$out/simdjson.wasm.tmp" "$src/simdjson.cpp" "$here/shim.cpp"
mv "$out/simdjson.wasm.tmp" "$out/simdjson.wasm"
echo "built $out/simdjson.wasm"
