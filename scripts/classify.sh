#!/usr/bin/env bash
# The main job: classify photos with the real MobileNetV2 model from ../shared.
#   scripts/classify.sh [mnv2 classify options] IMAGE...
# Defaults to the uint8 ImageNet model and its labels; pass --model/--labels to override.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scripts_dir="$root/scripts"
"$scripts_dir/setup.sh"
MNV2_TARGET=mnv2 "$scripts_dir/build.sh" build >/dev/null
shared=${MNV2_SHARED_DIR:-$root/../shared}
args=("$@")
has_model=0
for a in "$@"; do [ "$a" = "--model" ] && has_model=1; done
if [ $has_model -eq 0 ]; then
  args=(--model "$shared/models/mobilenet_v2_1.0_224_quant.tflite" --labels "$shared/models/imagenet_labels.txt" "${args[@]}")
fi
[ $# -gt 0 ] || args+=("$shared/images/cat.bmp")
exec "$root/build/mnv2" classify "${args[@]}"
