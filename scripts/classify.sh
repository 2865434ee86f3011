#!/usr/bin/env bash
# The main job: classify photos. Installs and builds what is missing, then runs the package's
# Node CLI (the WebAssembly build) with the default bundled ImageNet model:
#   scripts/classify.sh [options] IMAGE...            same as `npm start -- [options] IMAGE...`
#   scripts/classify.sh --native [options] IMAGE...   the native tool, build/mnv2
# Options: --model M.tflite --labels L.txt --top K --json --crop --raw WxH (see README).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh >&2
shared=${MNV2_SHARED_DIR:-$root/../shared}
if [ "${1:-}" = "--native" ]; then
  shift
  MNV2_TARGET=mnv2 scripts/build.sh build >/dev/null
  args=("$@")
  case " $* " in
    *" --model "*) ;;
    *) args=(--model "$shared/models/mobilenet_v2_1.0_224_quant.tflite" --labels "$shared/models/imagenet_labels.txt" "${args[@]}") ;;
  esac
  exec build/mnv2 classify "${args[@]}"
fi
[ -f dist/mnv2-simd.wasm ] && [ -f dist/mnv2-nosimd.wasm ] || scripts/build-wasm.sh >/dev/null
[ -f models/mobilenet_v2_1.0_224_quant.tflite ] || scripts/prepare-models.sh
exec node bin/cli.js classify "$@"
