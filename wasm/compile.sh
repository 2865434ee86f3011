#!/usr/bin/env bash
# CMake's compiler launcher in the WebAssembly builds (CMakeLists.txt: MNV2_WASM_DIRECT_COMPILE):
#   compile.sh CLANG CACHE_DIR EM++ ARGS...
# runs a compile step (-c) as CLANG itself with the flags em++ would add for ARGS, without em++'s
# Python start-up, 0.36 s a file (the SIMD tree's build: 146-167 s of CPU instead of 189). Those
# flags depend only on the arguments em++ interprets (settings -sNAME, the exception flags,
# -pthread, ...): `em++ THOSE --cflags` is asked once per distinct set and kept in CACHE_DIR.
# Anything that is not a compile step goes to em++ unchanged.
set -euo pipefail
clang=$1 cache=$2
shift 2
compile=0
interpreted=()
for arg in "${@:2}"; do
  case $arg in
    -c) compile=1 ;;
    -s | -s[A-Z]* | --* | -pthread | -f*exceptions | -fPIC | -fpic | -flto* | -nostdinc* | -g*) interpreted+=("$arg") ;;
  esac
done
[ $compile = 1 ] || exec "$@"
key=$(printf '%s\n' "${interpreted[@]}" | md5sum | cut -c1-16)
file=$cache/$key
if [ ! -f "$file" ]; then
  mkdir -p "$cache"
  "$1" "${interpreted[@]}" --cflags >"$file.$$"
  mv -f "$file.$$" "$file"
fi
read -ra cflags <"$file"
exec "$clang" "${cflags[@]}" "${@:2}"
