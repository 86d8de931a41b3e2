#!/bin/sh
# Builds bench_read and times ctdeface's DICOM -> NIfTI against dcm2niix -z n on
# a 512 x 512 x 300 uncompressed series (written once, then reused).
#   bench/run_read_bench.sh [BUILD_DIR] [--work DIR] [--repeats N] [--stages]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
[ $# -gt 0 ] && shift
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$build" -j2 bench_read
exec "$build/bench/bench_read" "$@"
