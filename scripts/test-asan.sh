#!/usr/bin/env bash
# The whole test suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (UB is fatal). Leak checking is off: GDCM and ITK keep process-lifetime singletons.
set -euo pipefail
cd "$(dirname "$0")/.."
# -O1 with line tables only (-g1), as the sanitizers' own docs advise: reports keep
# file:line, and the build takes half the CPU of -O2 -g (CI has 30 minutes for
# two full builds, two suites and the fuzzers).
cmake -S . -B build-asan -G Ninja -DCTDEFACE_SANITIZE=ON -DCTDEFACE_WERROR=ON -DCTDEFACE_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
ninja -C build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
