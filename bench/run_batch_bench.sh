#!/usr/bin/env bash
# Batch throughput benchmark (issue 5/7), side by side in one run on the same
# root of phantom head cases (256 x 256 x ~100, uncompressed), each run into a
# fresh OUT with --force and followed by `sync`, page cache warm for all:
#   1. -j 2 vs -j 1 on this machine (goal on 2 cores: >= 1.8x the cases per second),
#      and vs -j 1 --threads 1 (one case on one core: how well cases scale)
#   2. mpirun -np 3 (rank 0 hands out cases, 2 ranks work) vs -j 2
# Prints cases/s and the ratios, and the load average before and after: on a
# shared machine only a quiet run means much.
# Usage: bench/run_batch_bench.sh [build-dir] [cases] [extra ctdeface flags...]
#   e.g. bench/run_batch_bench.sh build 40            (the product's defaults, QC renders included)
#        bench/run_batch_bench.sh build 40 --no-qc    (defacing alone)
# BENCH_WORK=dir sets the scratch folder (default <build-dir>/bench-batch).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
CASES=${2:-40}
shift $(($# > 2 ? 2 : $#))
EXTRA=("$@")
WORK=${BENCH_WORK:-$BUILD/bench-batch}
ROOT="$WORK/cases-$CASES"
mkdir -p "$WORK"
if [ ! -f "$ROOT/.complete" ]; then
  rm -rf "$ROOT"
  for i in $(seq -w 1 "$CASES"); do
    # 1 mm pixels, 2 mm slice steps: 256 x 256 x ~100 per case.
    "$BUILD/ctdeface-phantom" "$ROOT/case$i" --matrix 256 --pixel-spacing 1 --slice-step 2 --seed "$((10#$i))" >/dev/null
    rm -f "$ROOT/case$i/labels.nii.gz" "$ROOT/case$i/landmarks.json"
  done
  touch "$ROOT/.complete"
fi
NFILES=$(find "$ROOT" -name '*.dcm' | wc -l)
now() { date +%s.%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
find "$ROOT" -type f -exec cat {} + >/dev/null  # warm the page cache for every run alike

run() {  # name, command...
  local name=$1
  shift
  rm -rf "$WORK/out-$name"
  sync
  local t0 t1
  t0=$(now)
  "$@" -i "$ROOT" -o "$WORK/out-$name" --force -q "${EXTRA[@]}" || [ $? -eq 1 ]
  sync
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
j1=$(run j1 "$BUILD/ctdeface" -j 1)
# -j 1 hands the one case both cores (--threads defaults to all), so -j 2 can
# only win the case's serial part back; one case on one thread is the baseline
# that shows how well cases scale.
j1t1=$(run j1t1 "$BUILD/ctdeface" -j 1 --threads 1)
j2=$(run j2 "$BUILD/ctdeface" -j 2)
mpi=$(run mpi3 mpirun --allow-run-as-root --oversubscribe -np 3 "$BUILD/ctdeface")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

same=yes
for o in j1t1 j2 mpi3; do
  diff -rq --exclude=.ctdeface-state --exclude=.ctdeface-work --exclude='ctdeface-report.*' "$WORK/out-j1" "$WORK/out-$o" >/dev/null || same=no
done
STATUSES=$(python3 -c "import json,collections;print(dict(collections.Counter(c['status'] for c in json.load(open('$WORK/out-j1/ctdeface-report.json'))['cases'])))")
python3 - "$CASES" "$NFILES" "$j1" "$j2" "$mpi" "$LOAD_BEFORE" "$LOAD_AFTER" "$same" "$(nproc)" "$STATUSES" "$j1t1" <<'PY'
import sys
cases, files = int(sys.argv[1]), int(sys.argv[2])
j1, j2, mpi = map(float, sys.argv[3:6])
j1t1 = float(sys.argv[11])
print(f"batch benchmark: {cases} phantom cases (256x256x~100, {files} files), {sys.argv[9]} cores, load before {sys.argv[6]}, after {sys.argv[7]}")
for name, t in (("-j 1", j1), ("-j 1 --threads 1", j1t1), ("-j 2", j2), ("mpirun -np 3", mpi)):
    print(f"  {name:20s} {t:8.2f} s   {cases / t:6.2f} cases/s")
print(f"  -j 2 vs -j 1:           {j1 / j2:.2f}x  (goal >= 1.8x on 2 cores)")
print(f"  -j 2 vs -j 1 --threads 1: {j1t1 / j2:.2f}x  (how cases scale: one case on one core vs two at once)")
print(f"  mpirun -np 3 vs -j 2:   {j2 / mpi:.2f}x")
print(f"  outputs identical across the four runs (state, work folders and reports aside): {sys.argv[8]}")
print(f"  case statuses (-j 1 run): {sys.argv[10]}")
PY
