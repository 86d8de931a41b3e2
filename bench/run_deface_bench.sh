#!/usr/bin/env bash
# End-to-end benchmark (issue 3/7), side by side in one run on a 512x512x~300
# uncompressed phantom head series; each repeat runs `cp -r` and `ctdeface` on
# the same folder back to back (both followed by `sync`, page cache warm for both):
#   1. wall time of `ctdeface` as a ratio to `cp -r` of the same folder (goal <= 2x)
#   2. the geometric segmenter's own time (goal <= 1 s on 2 cores), from the report
#   3. peak RSS (/usr/bin/time) as a ratio to the series' pixel bytes (goal <= 3x)
# Prints best and median over the repeats, and the load average before and
# after: on a shared machine only the best repeats mean much. Two runs of
# ctdeface per repeat: `--no-qc` (the defacer alone: read, segment, rewrite,
# the figures issue 3/7 set goals for) and the default (with the QC skin
# renders and face detector of issue 6/7).
# Then, once: where the time and memory go, stage by stage (bench_stages, same
# series, no CLI), and the CLI's own start-up (`ctdeface --version`: shared
# libraries and static initialisers, paid by every run).
# Usage: bench/run_deface_bench.sh [build-dir] [repeats]   (BENCH_WORK=dir for the scratch folder)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
REPEATS=${2:-5}
WORK=${BENCH_WORK:-$BUILD/bench-deface}
mkdir -p "$WORK"
SERIES="$WORK/phantom512"
if [ ! -d "$SERIES/dicom" ]; then
  # 0.5 mm pixels, 0.69 mm slices over head and neck: 512 x 512 x ~300.
  "$BUILD/ctdeface-phantom" "$SERIES" --matrix 512 --pixel-spacing 0.5 --slice-step 0.69 --noise 10 >/dev/null
fi
IN="$SERIES/dicom"
NFILES=$(ls "$IN" | wc -l)
PIXEL_BYTES=$((512 * 512 * NFILES * 2))
now() { date +%s.%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

RESULTS="$WORK/results.txt"
: >"$RESULTS"
cat "$IN"/* >/dev/null  # warm the page cache for the first repeat too
# One timed ctdeface run: prints "seconds segmenter_seconds peak_kb".
run_ctdeface() {
  rm -rf "$WORK/ct-out"; sync
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%M" -o "$WORK/rss.txt" "$BUILD/ctdeface" -q "$@" -i "$IN" -o "$WORK/ct-out" || true; sync
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(python3 -c "import json;print(json.load(open('$WORK/ct-out/ctdeface-report.json'))['series'][0]['segment_seconds'])") $(tail -1 "$WORK/rss.txt")"
}
for r in $(seq "$REPEATS"); do
  rm -rf "$WORK/cp-out"; sync
  t0=$(now); cp -r "$IN" "$WORK/cp-out"; sync; t1=$(now)
  cp_s=$(echo "$t1 - $t0" | bc -l)
  rm -rf "$WORK/cp-out"
  read -r noqc_s noqc_seg noqc_kb < <(run_ctdeface --no-qc)
  read -r qc_s qc_seg qc_kb < <(run_ctdeface)
  echo "$cp_s $noqc_s $noqc_seg $noqc_kb $qc_s $qc_seg $qc_kb" >>"$RESULTS"
  printf 'run %d: cp -r %.3f s | --no-qc %.3f s (%.2fx; segmenter %.3f s; %d MiB) | default %.3f s (%.2fx; %d MiB)\n' \
    "$r" "$cp_s" "$noqc_s" "$(echo "$noqc_s / $cp_s" | bc -l)" "$noqc_seg" $((noqc_kb / 1024)) \
    "$qc_s" "$(echo "$qc_s / $cp_s" | bc -l)" $((qc_kb / 1024))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$WORK/ct-out"

python3 - "$RESULTS" "$PIXEL_BYTES" "$NFILES" "$(nproc)" "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
pixel_bytes, nfiles, cores = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cols = list(zip(*rows))
cp = cols[0]
med = statistics.median
print(f"\nseries: {nfiles} files, 512x512, pixel bytes {pixel_bytes / 2**20:.0f} MiB, {cores} cores, "
      f"{len(rows)} repeats; load average before {sys.argv[5]}, after {sys.argv[6]}")
print(f"{'':30}{'best':>10}{'median':>10}")
print(f"{'cp -r + sync (s)':30}{min(cp):10.3f}{med(cp):10.3f}")
for name, base in (("ctdeface --no-qc", 1), ("ctdeface (default, QC on)", 4)):
    ct, seg, kb = cols[base], cols[base + 1], cols[base + 2]
    ratio = [b / a for a, b in zip(cp, ct)]
    rss = [k * 1024 / pixel_bytes for k in kb]
    print(f"{name}:")
    print(f"{'  wall + sync (s)':30}{min(ct):10.3f}{med(ct):10.3f}")
    print(f"{'  1. ratio to cp -r (<= 2x)':30}{min(ct) / min(cp):9.2f}x{med(ratio):9.2f}x   (best: best/best; median: of per-run ratios)")
    print(f"{'  2. segmenter (s, <= 1 s)':30}{min(seg):10.3f}{med(seg):10.3f}")
    print(f"{'  3. peak RSS (MiB)':30}{min(kb) / 1024:10.0f}{med(kb) / 1024:10.0f}")
    print(f"{'     ratio to pixels (<= 3x)':30}{min(rss):9.2f}x{med(rss):9.2f}x   (max over repeats {max(rss):.2f}x)")
PY

echo
echo "start-up: ctdeface --version (best of 5): $(for i in 1 2 3 4 5; do /usr/bin/time -f '%e %M' "$BUILD/ctdeface" --version 2>&1 >/dev/null | tail -1; done | sort -n | head -1 | awk '{printf "%.3f s, %d MiB RSS", $1, $2 / 1024}'), $(ldd "$BUILD/ctdeface" | wc -l) shared libraries"
if [ -x "$BUILD/bench/bench_stages" ]; then
  echo "stages (bench_stages, one run; load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  "$BUILD/bench/bench_stages" "$IN" "$WORK/stages-out" | sed 's/^/  /'
  rm -rf "$WORK/stages-out"
fi
