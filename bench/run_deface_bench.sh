#!/usr/bin/env bash
# End-to-end benchmark (issue 3/7), side by side in one run on a 512x512x~300
# uncompressed phantom head series:
#   1. wall time of `ctdeface` as a ratio to `cp -r` of the same folder (goal <= 2x)
#   2. the geometric segmenter's own time (goal <= 1 s on 2 cores), from the report
#   3. peak RSS as a ratio to the series' pixel bytes (goal <= 3x)
# Usage: bench/run_deface_bench.sh [build-dir] [repeats]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
REPEATS=${2:-3}
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

best_cp=999999; best_ct=999999; best_seg=999999; peak_kb=0
for r in $(seq "$REPEATS"); do
  rm -rf "$WORK/cp-out" "$WORK/ct-out"; sync
  t0=$(now); cp -r "$IN" "$WORK/cp-out"; sync; t1=$(now)
  cp_s=$(echo "$t1 - $t0" | bc -l)
  t0=$(now)
  /usr/bin/time -f "%M" -o "$WORK/rss.txt" "$BUILD/ctdeface" -q -i "$IN" -o "$WORK/ct-out"; sync
  t1=$(now)
  ct_s=$(echo "$t1 - $t0" | bc -l)
  seg_s=$(python3 -c "import json;print(json.load(open('$WORK/ct-out/ctdeface-report.json'))['series'][0]['segment_seconds'])")
  kb=$(cat "$WORK/rss.txt")
  best_cp=$(echo "if ($cp_s < $best_cp) $cp_s else $best_cp" | bc -l)
  best_ct=$(echo "if ($ct_s < $best_ct) $ct_s else $best_ct" | bc -l)
  best_seg=$(echo "if ($seg_s < $best_seg) $seg_s else $best_seg" | bc -l)
  [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
  printf 'run %d: cp -r %.3f s, ctdeface %.3f s (segmenter %.3f s), peak RSS %d MiB\n' "$r" "$cp_s" "$ct_s" "$seg_s" $((kb / 1024))
done
printf '\nseries: %d files, 512x512, pixel bytes %d MiB, %d cores\n' "$NFILES" $((PIXEL_BYTES / 1048576)) "$(nproc)"
printf 'best cp -r:        %.3f s\n' "$best_cp"
printf 'best ctdeface:     %.3f s   ratio to cp -r: %.2fx (goal <= 2x)\n' "$best_ct" "$(echo "$best_ct / $best_cp" | bc -l)"
printf 'best segmenter:    %.3f s   (goal <= 1 s)\n' "$best_seg"
printf 'peak RSS:          %d MiB   ratio to pixel bytes: %.2fx (goal <= 3x)\n' $((peak_kb / 1024)) "$(echo "$peak_kb * 1024 / $PIXEL_BYTES" | bc -l)"
