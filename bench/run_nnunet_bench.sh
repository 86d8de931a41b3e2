#!/usr/bin/env bash
# nnU-Net engine benchmark (issue 4/7), side by side in one run: the default-size nnU-Net v2
# 3d_fullres PlainConvUNet (6 stages, 32->320, patch 128^3, random weights saved by nnUNetTrainer)
# on a head CT (the shared GE head interpolated to 512x512x200 at 0.5x0.5x1 mm), no TTA, the same
# thread count: `ctdeface deface-nifti --model <folder>` (end to end: read, predict, write) versus
# nnU-Net's own nnUNetPredictor on the CPU. Prints time, ratio, voxel agreement of the face masks
# and peak RSS (/usr/bin/time -v).
#
# A full-size run takes hours of CPU on a 2-core machine: use --size/--patch for a quick check.
# Usage: bench/run_nnunet_bench.sh [--build DIR] [--size 512] [--patch 128] [--threads N] [--bf16]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$here/../build"; SIZE=512; PATCH=128; THREADS=$(nproc); EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --patch) PATCH="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --bf16) EXTRA+=(--bf16); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(realpath "$BUILD")
WORK=${BENCH_WORK:-$BUILD/bench-nnunet-$SIZE-$PATCH}
mkdir -p "$WORK"
if [[ ! -f "$WORK/ct_0000.nii.gz" ]]; then
  python3 "$here/nnunet/make_bench_case.py" "$WORK" --size "$SIZE" --patch "$PATCH" 2>&1 | grep -v -i warn | tail -1
fi
MODEL="$WORK/nnUNetTrainer__nnUNetPlans__3d_fullres"
now() { date +%s.%N; }

rm -rf "$WORK/ctd-out"
t0=$(now)
/usr/bin/time -v -o "$WORK/ctd-time.txt" "$BUILD/ctdeface" -q deface-nifti -i "$WORK/ct_0000.nii.gz" -o "$WORK/ctd-out" \
  --model "$MODEL" --threads "$THREADS" "${EXTRA[@]}"
t1=$(now)
ctd_s=$(echo "$t1 - $t0" | bc -l)

t0=$(now)
/usr/bin/time -v -o "$WORK/nnunet-time.txt" python3 "$here/nnunet/nnunet_predict.py" "$MODEL" "$WORK/ct_0000.nii.gz" \
  "$WORK/nnunet_mask.nii.gz" "$THREADS" 2>&1 | grep -v -i warn | grep -v '^$' | tail -1
t1=$(now)
nn_s=$(echo "$t1 - $t0" | bc -l)

rss() { awk -F: '/Maximum resident set size/ {print int($2 / 1024)}' "$1"; }
mask=$(ls "$WORK"/ctd-out/*_mask.nii.gz | head -1)
printf '\nvolume %sx%sx%s, patch %s^3, %s threads, no TTA\n' "$SIZE" "$SIZE" "$(python3 -c "print(max(8, round(200 * $SIZE / 512)))")" "$PATCH" "$THREADS"
printf 'ctdeface deface-nifti : %8.2f s, peak RSS %6d MiB\n' "$ctd_s" "$(rss "$WORK/ctd-time.txt")"
printf 'nnunetv2 predictor    : %8.2f s, peak RSS %6d MiB\n' "$nn_s" "$(rss "$WORK/nnunet-time.txt")"
printf 'speed-up              : %8.2fx (goal >= 5x)\n' "$(echo "$nn_s / $ctd_s" | bc -l)"
python3 "$here/nnunet/compare_masks.py" "$mask" "$WORK/nnunet_mask.nii.gz"
