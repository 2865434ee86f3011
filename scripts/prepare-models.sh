#!/usr/bin/env bash
# Copies the default model, its labels and their license from ../shared/models into models/
# (git-ignored) so that the npm package carries them and load() works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${MNV2_SHARED_DIR:-../shared}
mkdir -p models
for f in mobilenet_v2_1.0_224_quant.tflite imagenet_labels.txt LICENSE; do
  cp "$shared/models/$f" models/
done
