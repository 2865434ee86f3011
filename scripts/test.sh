#!/usr/bin/env bash
# The test command. Installs what it needs, then runs every suite:
#   1. C++ (GoogleTest) natively, then again under AddressSanitizer + UBSan (with the regression
#      tests of what the fuzzers found), then each libFuzzer target on MNV2_FUZZ_RUNS (500000)
#      inputs from a fixed seed (reproducible; scripts/fuzz.sh SECONDS runs the open-ended search);
#   2. the same C++ suites compiled to WebAssembly (SIMD and no SIMD), run under Node;
#   3. the JS API (node:test) on the built npm package;
#   4. the demo page, every input kind on a page and in a Web Worker, and a Vite app, in three browser
#      engines: Chromium, Firefox ESR and WebKitGTK (one engine at a time; WebKit on its own Xvfb display).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh browser
jobs=$(nproc)

echo "== C++, native (Release)"
scripts/build.sh build -DMNV2_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== C++, AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/build.sh build-asan -DMNV2_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== Fuzzing smoke run (libFuzzer, ASan + UBSan)"
MNV2_FUZZ_RUNS=${MNV2_FUZZ_RUNS:-500000} scripts/fuzz.sh

echo "== C++, WebAssembly (SIMD and no SIMD) under Node"
scripts/build-wasm.sh --tests
for variant in simd nosimd; do
  ctest --test-dir build-wasm-$variant --output-on-failure -j"$jobs"
done

echo "== JavaScript API (node:test)"
scripts/prepare-models.sh
npm ci --no-audit --no-fund
node --test tests/js/

echo "== Browser (Chromium, Firefox ESR, WebKitGTK)"
node --test --test-concurrency=1 tests/browser/
