#!/usr/bin/env bash
# Configures and builds ctdeface in ./build (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCTDEFACE_WERROR=ON ${CTDEFACE_CMAKE_ARGS:-} >/dev/null
ninja -C build -j"$(nproc)"
