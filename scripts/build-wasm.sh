#!/usr/bin/env bash
# Builds the WebAssembly variants with Emscripten (SIMD, no SIMD, threaded SIMD, and beside each
# SIMD one its relaxed SIMD twin) and copies the modules into dist/ for the npm package. With
# --tests, the GoogleTest suites too.
#   scripts/build-wasm.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."
tests=OFF
[ "${1:-}" = "--tests" ] && tests=ON
# Debian's emscripten runs its JS optimizer with Debian's node-acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
mkdir -p dist
# The relaxed SIMD modules merge in a kernel module with npm's binaryen (wasm/module.cmake).
[ -d node_modules/binaryen ] || npm ci --no-audit --no-fund
for variant in simd nosimd simd-mt; do
  dir=build-wasm-$variant
  simd=ON threads=OFF relaxed=ON variant_tests=$tests
  [ $variant = nosimd ] && simd=OFF relaxed=OFF
  # The threaded module: the same sources; its C++ tests are the native ones (threads), its JS
  # tests run on the package.
  [ $variant = simd-mt ] && threads=ON variant_tests=OFF
  emcmake cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMNV2_WASM_SIMD=$simd -DMNV2_WASM_THREADS=$threads \
    -DMNV2_WASM_RELAXED=$relaxed -DMNV2_BUILD_TESTS=$variant_tests >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  cp "$dir/mnv2-$variant.mjs" "$dir/mnv2-$variant.wasm" dist/
  [ $variant = simd-mt ] && cp "$dir/mnv2-$variant.worker.js" dist/
  # Beside the SIMD modules, their relaxed SIMD twins (mnv2-relaxed, mnv2-relaxed-mt).
  if [ $relaxed = ON ]; then
    twin=${variant/simd/relaxed}
    cp "$dir/mnv2-$twin.mjs" "$dir/mnv2-$twin.wasm" dist/
    [ $variant = simd-mt ] && cp "$dir/mnv2-$twin.worker.js" dist/
  fi
  # The learner module, loaded only by pages that create a classifier (wasm/module.cmake).
  if [ $variant != simd-mt ]; then cp "$dir/mnv2-learner-$variant.mjs" "$dir/mnv2-learner-$variant.wasm" dist/; fi
done
# The pthread worker script is CommonJS under Node (worker_threads); the package is "type": "module".
echo '{ "type": "commonjs" }' > dist/package.json
ls -l dist/
