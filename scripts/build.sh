#!/usr/bin/env bash
# Configures and builds one native build folder: scripts/build.sh [DIR] [extra cmake args...]
# MNV2_TARGET=name builds only that target.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)" ${MNV2_TARGET:+--target "$MNV2_TARGET"}
