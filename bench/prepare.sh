#!/usr/bin/env bash
# Prepares what the benchmark needs, in bench/out/ (git-ignored); idempotent:
#   - the package (dist/, models/) if missing: npm run build
#   - the exporter (CMake target mnv2_export_weights, native, in build-bench/) and its export of the
#     model: weights.json + weights.bin (and, for a model with an integer path, its 8-bit weights and
#     int32 biases: weights_q.bin), plus the photo resized to the model's input: input.rgb
#   - the model itself (model.tflite: what ours and tfjs-tflite run)
#   - the ONNX models for onnxruntime-web: mobilenet_v2.onnx (float32), mobilenet_v2_int8.onnx (integer)
#   - the WASM SIMD peak microbenchmark: peak.wasm (em++ -O3 -msimd128), and with clang-19 its
#     relaxed SIMD twin relaxed-peak.wasm
# MNV2_BENCH_MODEL / MNV2_BENCH_IMAGE override the model and photo (default: ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${MNV2_SHARED_DIR:-../shared}
model=${MNV2_BENCH_MODEL:-$shared/models/mobilenet_v2_1.0_224_quant.tflite}
image=${MNV2_BENCH_IMAGE:-$shared/images/cat.bmp}
out=bench/out
mkdir -p "$out"

for f in dist/mnv2-simd.mjs dist/mnv2-simd.wasm models/mobilenet_v2_1.0_224_quant.tflite; do
  [ -f "$f" ] || { echo "bench: $f missing; running npm run build"; npm run build; break; }
done
if [ -z "${MNV2_BENCH_MODEL:-}" ] && ! cmp -s "$model" models/mobilenet_v2_1.0_224_quant.tflite; then
  echo "bench: models/mobilenet_v2_1.0_224_quant.tflite differs from $model; run npm run build" >&2
  exit 1
fi
[ -d node_modules/onnxruntime-web ] && [ -d node_modules/@tensorflow/tfjs-backend-wasm ] &&
  [ -d node_modules/@tensorflow/tfjs-tflite ] || {
  echo "bench: the anchors are not installed; run npm install" >&2
  exit 1
}

# A build folder of its own, without the tests: the benchmark never touches build/.
if ! log=$(MNV2_TARGET=mnv2_export_weights scripts/build.sh build-bench -DMNV2_BUILD_TESTS=OFF 2>&1); then
  echo "$log" >&2
  echo "bench: building the exporter (mnv2_export_weights) failed" >&2
  exit 1
fi
build-bench/mnv2_export_weights --model "$model" --out "$out" --image "$image"
cp "$model" "$out/model.tflite"  # the very file ours and tfjs-tflite run (served to the browser page too)
node -e 'const [m, i] = process.argv.slice(1); console.log(JSON.stringify({ model: m, image: i }))' \
  "$(realpath "$model")" "$(realpath "$image")" > "$out/bench.json"
node bench/build_models.mjs "$out"

if [ ! -f "$out/peak.wasm" ] || [ bench/peak/peak.cc -nt "$out/peak.wasm" ]; then
  em++ -O3 -msimd128 --no-entry -sSTANDALONE_WASM -o "$out/peak.wasm" bench/peak/peak.cc
fi
# The relaxed SIMD peaks (clang 19, as the relaxed build's kernels; no libc: plain wasm32).
if command -v clang-19 >/dev/null && { [ ! -f "$out/relaxed-peak.wasm" ] || [ bench/peak/peak.cc -nt "$out/relaxed-peak.wasm" ]; }; then
  clang-19 --target=wasm32 -O3 -msimd128 -mrelaxed-simd -x c++ -c -o "$out/relaxed-peak.o" bench/peak/peak.cc
  wasm-ld-19 --no-entry -o "$out/relaxed-peak.wasm" "$out/relaxed-peak.o"
fi
