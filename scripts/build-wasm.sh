#!/usr/bin/env bash
# Builds the WebAssembly variants with Emscripten (SIMD, no SIMD, threaded SIMD, relaxed SIMD and
# its threaded twin) and copies the modules into dist/ for the npm package. With --tests, the
# GoogleTest suites too.
#   scripts/build-wasm.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."
tests=OFF
[ "${1:-}" = "--tests" ] && tests=ON
# Debian's emscripten runs its JS optimizer with Debian's node-acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
mkdir -p dist
# The relaxed SIMD builds merge in a kernel module with npm's binaryen (wasm/module.cmake).
[ -d node_modules/binaryen ] || npm ci --no-audit --no-fund
for variant in simd nosimd simd-mt relaxed relaxed-mt; do
  dir=build-wasm-$variant
  simd=ON threads=OFF relaxed=OFF variant_tests=$tests
  [ $variant = nosimd ] && simd=OFF
  case $variant in relaxed*) relaxed=ON ;; esac
  # The threaded and relaxed modules: the same sources; their C++ tests are the native ones
  # (threads; the relaxed kernels with the instruction emulated), their JS tests run on the package.
  case $variant in *-mt) threads=ON ;; esac
  case $variant in simd-mt | relaxed*) variant_tests=OFF ;; esac
  emcmake cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMNV2_WASM_SIMD=$simd -DMNV2_WASM_THREADS=$threads \
    -DMNV2_WASM_RELAXED=$relaxed -DMNV2_BUILD_TESTS=$variant_tests >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  cp "$dir/mnv2-$variant.mjs" "$dir/mnv2-$variant.wasm" dist/
  case $variant in *-mt) cp "$dir/mnv2-$variant.worker.js" dist/ ;; esac
  # The learner module, loaded only by pages that create a classifier (wasm/module.cmake).
  case $variant in simd | nosimd) cp "$dir/mnv2-learner-$variant.mjs" "$dir/mnv2-learner-$variant.wasm" dist/ ;; esac
done
# The pthread worker script is CommonJS under Node (worker_threads); the package is "type": "module".
echo '{ "type": "commonjs" }' > dist/package.json
ls -l dist/
