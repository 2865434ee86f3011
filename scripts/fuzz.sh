#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan, in build-fuzz), writes
# their seed corpora (from ../shared and made by tests/fuzz/make_seeds.cc; git-ignored) and
# runs the fuzzers side by side for SECONDS each (default 60):
#   scripts/fuzz.sh [SECONDS] [model|image|pipeline ...]
# Inputs that found new coverage accumulate in build-fuzz/corpus/NAME; a crash stops its
# fuzzer and is written to build-fuzz/crashes/ (then: turn it into a test in tests/cpp).
#
# With MNV2_FUZZ_RUNS=N (what the test command uses) each fuzzer instead runs exactly N inputs
# from a fixed random seed and a fresh corpus: the same inputs on every machine, however fast,
# so the run is a reproducible regression check rather than a search whose reach depends on speed.
# MNV2_FUZZ_TESTS=1 builds the GoogleTest suites in build-fuzz too (the test command's one
# sanitizer build: ctest --test-dir build-fuzz); MNV2_FUZZ_BUILD_ONLY=1 stops after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=(model image pipeline)
shared=${MNV2_SHARED_DIR:-$(cd .. && pwd)/shared}

if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
fi
tests=OFF
[ "${MNV2_FUZZ_TESTS:-}" = 1 ] && tests=ON
# MNV2_FUZZ_TRACE_CMP=OFF: without libFuzzer's comparison tracing (the test command's build; CMakeLists.txt).
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMNV2_FUZZ=ON -DMNV2_FUZZ_TRACE_CMP="${MNV2_FUZZ_TRACE_CMP:-ON}" -DMNV2_BUILD_TESTS=$tests >/dev/null
cmake --build build-fuzz -j"$(nproc)"
[ "${MNV2_FUZZ_BUILD_ONLY:-}" = 1 ] && exit 0

rm -rf build-fuzz/seeds
build-fuzz/mnv2_fuzz_seeds build-fuzz/seeds "$shared"
mkdir -p build-fuzz/crashes build-fuzz/logs

# Largest input each fuzzer makes (longer seeds are cut: fast runs matter more than whole photos).
declare -A max_len=([model]=262144 [image]=65536 [pipeline]=65536)
runs=${MNV2_FUZZ_RUNS:-}
for f in "${fuzzers[@]}"; do
  if [ -n "$runs" ]; then
    corpus=build-fuzz/smoke-corpus/$f
    rm -rf "$corpus"
    budget=(-runs="$runs" -seed=1)
  else
    corpus=build-fuzz/corpus/$f
    budget=(-max_total_time="$seconds")
  fi
  mkdir -p "$corpus"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    build-fuzz/mnv2_${f}_fuzzer "${budget[@]}" -max_len=${max_len[$f]} -timeout=60 \
      -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/$f- \
      "$corpus" build-fuzz/seeds/$f >build-fuzz/logs/$f.log 2>&1 &
  pids+=($!)
done
status=0
for i in "${!fuzzers[@]}"; do
  f=${fuzzers[$i]}
  if wait "${pids[$i]}"; then result=clean; else result="FAILED (see build-fuzz/logs/$f.log)"; status=1; fi
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/logs/$f.log)
  seconds_taken=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' build-fuzz/logs/$f.log)
  echo "fuzz $f: ${executed:-?} executions in ${seconds_taken:-$seconds}s, $result"
  [ "$result" = clean ] || tail -n 40 build-fuzz/logs/$f.log
done
exit $status
