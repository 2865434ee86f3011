#!/usr/bin/env bash
# The test command. Installs what it needs, then runs every suite:
#   1. C++ (GoogleTest) natively (g++), then again under AddressSanitizer + UBSan (clang, in the
#      same build as the libFuzzer targets: build-fuzz), with the regression tests of what the
#      fuzzers found, then each fuzzer on a fixed number of inputs from a fixed seed, under a
#      minute each (reproducible; scripts/fuzz.sh SECONDS runs the open-ended search);
#   2. the same C++ suites compiled to WebAssembly (SIMD and no SIMD), run under Node (the build also
#      makes the package's modules: threaded, relaxed SIMD);
#   3. the JS API (node:test) on the built npm package;
#   4. the demo page, every input kind on a page and in a Web Worker, and a Vite app, in three browser
#      engines: Chromium, Firefox ESR and WebKitGTK (a test file runs them one after another, two files
#      side by side; each WebKit on its own Xvfb display).
# A suite that fails does not stop the others. The command ends with a table of every step (tests,
# passed, failed, skipped, seconds) and a last line "total: N passed, M failed"; it exits non-zero
# if anything failed. Each step's whole output is also in build-logs/STEP.log.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
logs=build-logs
rm -rf "$logs"
mkdir -p "$logs"
rows=()
started=$SECONDS

# step NAME KIND COMMAND...: runs COMMAND, its output shown and kept in build-logs/, and adds a
# row to the table. KIND says how to count its tests: ctest, node (node:test), fuzz, or none.
step() {
  local name=$1 kind=$2
  shift 2
  local log="$logs/$(echo "$name" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9\n' '-' | sed 's/-$//').log"
  echo
  echo "== $name"
  local begin=$SECONDS status=0
  "$@" 2>&1 | tee "$log" || status=$?
  local seconds=$((SECONDS - begin)) tests=- passed=- failed=- skipped=-
  case $kind in
    ctest)
      # The GoogleTest cases, from the lines run_ctest writes ("gtest results: 410 tests, 0 failed,
      # 4 skipped"), and ctest's other tests (the CLI's; not the programs' shards).
      read -r tests failed skipped < <(
        sed -n 's/^gtest results: \([0-9]*\) tests, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log" |
          awk '{t += $1; f += $2; s += $3} END {print t + 0, f + 0, s + 0}')
      read -r others others_failed others_skipped < <(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log" | grep -v '\.shard' |
        awk '{n++; if (/\(Skipped\)/) s++; else if (!/ Passed /) f++} END {print n + 0, f + 0, s + 0}')
      tests=$((tests + others)) failed=$((failed + others_failed)) skipped=$((skipped + others_skipped))
      passed=$((tests - failed - skipped))
      ;;
    node)
      # node:test's TAP summary: "# tests 264", "# pass 264", "# fail 0", "# skipped 0".
      tests=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$log" | tail -1)
      passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
      failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
      skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -1)
      tests=${tests:-0} passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}
      ;;
    fuzz)
      # scripts/fuzz.sh: "fuzz model: 120000 executions in 58s, clean" per fuzzer.
      passed=$(grep -c '^fuzz [a-z]*: .*, clean$' "$log")
      failed=$(grep -c '^fuzz [a-z]*: .*FAILED' "$log")
      tests=$((passed + failed)) skipped=0
      ;;
  esac
  # A command that failed counts as one failure when no test result says so (a build error).
  if [ $status -ne 0 ] && { [ "$failed" = - ] || [ "$failed" -eq 0 ]; }; then failed=1; fi
  rows+=("$name|$tests|$passed|$failed|$skipped|$seconds")
  return 0
}

# run_ctest DIR: the build's ctest tests. The GoogleTest programs run in shards, each writing its
# results to DIR/test-results (CMakeLists.txt); their test cases are summed in one line.
run_ctest() {
  local dir=$1 status=0
  rm -rf "$dir/test-results"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" || status=1
  cat "$dir"/test-results/*.xml 2>/dev/null | awk '
    /^ *<testcase / { tests++; open = $0 !~ /\/>$/; counted = 0; if (/ result="skipped"/) skipped++ }
    /^ *<failure / && open && !counted { failed++; counted = 1 }
    /^ *<\/testcase>/ { open = 0 }
    END { printf "gtest results: %d tests, %d failed, %d skipped\n", tests, failed, skipped }'
  return $status
}
native_tests() {
  scripts/build.sh build -DMNV2_BUILD_TESTS=ON && run_ctest build
}
# One sanitizer build serves the tests and the fuzzers (clang: libFuzzer needs it), without
# libFuzzer's comparison tracing (CMakeLists.txt: MNV2_FUZZ_TRACE_CMP).
export MNV2_FUZZ_TRACE_CMP=OFF
sanitizer_tests() {
  MNV2_FUZZ_TESTS=1 MNV2_FUZZ_BUILD_ONLY=1 scripts/fuzz.sh &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-fuzz
}
wasm_tests() {
  local status=0
  scripts/build-wasm.sh --tests || return 1
  for variant in simd nosimd; do
    run_ctest build-wasm-$variant || status=1
  done
  return $status
}
js_prepare() {
  scripts/prepare-models.sh && npm ci --no-audit --no-fund
}

step "setup (Debian packages)" none scripts/setup.sh browser
# npm's packages first: the C++ suites' TF.js tests read the nsfwjs models from node_modules
# (they skip without them), and the WebAssembly build merges the relaxed module with npm's binaryen.
step "npm ci, models" none js_prepare
step "C++ native" ctest native_tests
step "C++ ASan + UBSan" ctest sanitizer_tests
# Inputs per fuzzer: 26-45 s each on this repository's 2-core machine, the three side by side.
step "fuzz smoke (3 fuzzers)" fuzz env MNV2_FUZZ_TESTS=1 MNV2_FUZZ_RUNS="${MNV2_FUZZ_RUNS:-200000}" scripts/fuzz.sh
step "C++ WebAssembly (SIMD, no SIMD)" ctest wasm_tests
# Two test files at a time: a file mostly keeps one core busy (122 s one at a time, 90 s two at a time).
step "JavaScript API (node:test)" node node --test --test-concurrency="$jobs" tests/js/
# Two test files at a time here too: one file at a time left a core idle part of the time (393 s
# one at a time, 324 s two at a time).
step "browsers (Chromium, Firefox, WebKit)" node node --test --test-concurrency="$jobs" tests/browser/

total_tests=0 total_passed=0 total_failed=0
echo
echo "== Summary"
printf '%-40s %7s %7s %7s %8s %8s\n' suite tests passed failed skipped seconds
for row in "${rows[@]}"; do
  IFS='|' read -r name tests passed failed skipped seconds <<<"$row"
  printf '%-40s %7s %7s %7s %8s %8s\n' "$name" "$tests" "$passed" "$failed" "$skipped" "$seconds"
  [ "$tests" != - ] && total_tests=$((total_tests + tests))
  [ "$passed" != - ] && total_passed=$((total_passed + passed))
  [ "$failed" != - ] && total_failed=$((total_failed + failed))
done
printf '%-40s %7s %7s %7s %8s %8s\n' all "$total_tests" "$total_passed" "$total_failed" "" "$((SECONDS - started))"
echo "total: $total_passed passed, $total_failed failed"
[ $total_failed -eq 0 ]
