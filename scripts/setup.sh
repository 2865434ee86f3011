#!/usr/bin/env bash
# Installs the Debian packages the builds and tests need (run as root on a fresh machine):
#   scripts/setup.sh            native build and tests, Emscripten (and clang 19) for the WebAssembly build
#   scripts/setup.sh browser    also the three browser engines of the browser tests: Chromium, Firefox ESR,
#                               WebKitGTK (MiniBrowser + WebKitWebDriver) and Xvfb for its virtual display
set -euo pipefail
# clang-19, lld-19: the relaxed SIMD module's kernels (wasm/module.cmake).
packages=(cmake ninja-build g++ libhwy-dev libstb-dev googletest emscripten clang-19 lld-19 llvm-19)
[ "${1:-}" = "browser" ] && packages+=(chromium firefox-esr webkit2gtk-driver xvfb xauth)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  # Installed, not merely known: a package removed without purging keeps its configuration and a status.
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
