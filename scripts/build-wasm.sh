#!/usr/bin/env bash
# Builds the two WebAssembly variants (SIMD and no SIMD) with Emscripten and copies the
# modules into dist/ for the npm package. With --tests, the GoogleTest suites too.
#   scripts/build-wasm.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."
tests=OFF
[ "${1:-}" = "--tests" ] && tests=ON
# Debian's emscripten runs its JS optimizer with Debian's node-acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
mkdir -p dist
for variant in simd nosimd; do
  dir=build-wasm-$variant
  simd=ON
  [ $variant = nosimd ] && simd=OFF
  emcmake cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMNV2_WASM_SIMD=$simd -DMNV2_BUILD_TESTS=$tests >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  cp "$dir/mnv2-$variant.mjs" "$dir/mnv2-$variant.wasm" dist/
done
ls -l dist/
