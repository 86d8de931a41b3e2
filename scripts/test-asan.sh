#!/usr/bin/env bash
# The whole test suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (UB is fatal). Leak checking is off: GDCM and ITK keep process-lifetime singletons.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCTDEFACE_SANITIZE=ON -DCTDEFACE_WERROR=ON -DCTDEFACE_BUILD_BENCH=OFF >/dev/null
ninja -C build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
