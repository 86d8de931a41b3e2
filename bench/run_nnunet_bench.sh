#!/usr/bin/env bash
# nnU-Net engine benchmark (issue 4/7), side by side in one run, same threads, no TTA:
#   1. nnU-Net v2's own nnUNetPredictor on the CPU (the reference),
#   2. `ctdeface deface-nifti --roi all` (whole image: exact nnU-Net),
#   3. `ctdeface deface-nifti --roi face` (only nnU-Net's tiles overlapping the geometric face region),
# end to end (read, predict, write) on a head CT: the shared GE head on its regular grid resampled to
# 512x512x200 over the same physical box (0.73 x 0.58 x 0.49 mm), with the 3d_fullres model nnU-Net's
# ExperimentPlanner makes for it (PlainConvUNet, 6 stages 32->320) and random weights saved by
# nnUNetTrainer (see nnunet/make_bench_case.py).
# Prints time, speed-up, peak RSS (/usr/bin/time -v), tiles, and the masks' voxel agreement with
# nnunetv2's, overall and inside the face region, and each run's arithmetic rate (the network's
# GFLOP per tile x tiles / wall time) against this CPU's float32 FMA ceiling (bench/bench_fma_peak).
# Whether bfloat16 or int8 convolutions would keep the masks: bench/nnunet/precision_probe.py WORK.
#
# Full size needs the whole 2-core machine for about 35-45 min. Quick check:
#   bench/run_nnunet_bench.sh --build build --size 128 --patch 64
# Usage: bench/run_nnunet_bench.sh [--build DIR] [--size 512] [--patch P (cubic; default: as planned)]
#        [--threads N] [--roi-margin MM] [--bf16] [--reuse-reference (keep the last nnunetv2 run of this case)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$here/../build"; SIZE=512; PATCH=0; THREADS=$(nproc); MARGIN=40; EXTRA=(); REUSE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --patch) PATCH="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --roi-margin) MARGIN="$2"; shift 2 ;;
    --bf16) EXTRA+=(--bf16); shift ;;
    --reuse-reference) REUSE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(realpath "$BUILD")
CTD="$BUILD/ctdeface"
[[ -x "$CTD" ]] || { echo "no $CTD: build the ctdeface_cli target first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed for peak RSS" >&2; exit 1; }
python3 -c "import nnunetv2, torch, SimpleITK" || { echo "python3 needs nnunetv2, torch and SimpleITK" >&2; exit 1; }
tag=$([[ "$PATCH" == 0 ]] && echo planned || echo "p$PATCH")
WORK=${BENCH_WORK:-$BUILD/bench-nnunet-$SIZE-$tag}
mkdir -p "$WORK"
# Space: the case (about 0.2 GB at 512), the model, and three runs' image + mask (about 0.3 GB each).
need_mb=$(( SIZE * SIZE * 200 / 512 * 20 / 1048576 + 300 ))
free_mb=$(df -Pm "$WORK" | awk 'NR == 2 {print $4}')
(( free_mb > need_mb )) || { echo "need about $need_mb MB free under $WORK, have $free_mb" >&2; exit 1; }

MODEL="$WORK/nnUNetTrainer__nnUNetPlans__3d_fullres"
# The case is remade when its generator changed (the marker holds the generator's hash).
gen_hash=$(cat "$here/nnunet/make_bench_case.py" "$here/../tests/oracle/make_nnunet_fixtures.py" | sha1sum | cut -c1-40)
if [[ "$(cat "$WORK/case.complete" 2>/dev/null)" != "$gen_hash" ]]; then
  rm -f "$WORK/case.complete" "$WORK/nnunet.seconds"
  rm -rf "$WORK/ct_0000.nii.gz" "$MODEL"
  args=(--size "$SIZE"); [[ "$PATCH" != 0 ]] && args+=(--patch "$PATCH")
  rm -rf "$WORK/ge-regular"
  "$CTD" -q convert dicom2nifti -i "${CTD_SHARED_DATA:-/work/shared/data}/ct-head-ge-tilt" -o "$WORK/ge-regular"
  python3 "$here/nnunet/make_bench_case.py" "$WORK" --source "$WORK"/ge-regular/*.nii.gz "${args[@]}" \
    > "$WORK/make_case.log" 2>&1 ||
    { tail -20 "$WORK/make_case.log" >&2; exit 1; }
  [[ -f "$WORK/ct_0000.nii.gz" && -f "$MODEL/fold_all/checkpoint_final.pth" ]] || { echo "case generation failed" >&2; exit 1; }
  echo "$gen_hash" > "$WORK/case.complete"
fi
tail -1 "$WORK/make_case.log" 2>/dev/null || true
now() { date +%s.%N; }
rss() { awk -F: '/Maximum resident set size/ {print int($2 / 1024)}' "$1"; }
cpu() { awk -F: '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$1"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $REUSE == 1 && -f "$WORK/nnunet.seconds" && -f "$WORK/nnunet_mask.nii.gz" ]]; then
  echo "nnunetv2: reusing the run of $(date -r "$WORK/nnunet.seconds" -u +%FT%TZ)"
else
  rm -f "$WORK/nnunet.seconds"
  t0=$(now)
  /usr/bin/time -v -o "$WORK/nnunet-time.txt" python3 "$here/nnunet/nnunet_predict.py" "$MODEL" "$WORK/ct_0000.nii.gz" \
    "$WORK/nnunet_mask.nii.gz" "$THREADS" > "$WORK/nnunet.log" 2>&1 || { tail -20 "$WORK/nnunet.log" >&2; exit 1; }
  echo "$(now) - $t0" | bc -l > "$WORK/nnunet.seconds"
fi
nn_s=$(cat "$WORK/nnunet.seconds")

run_ctd() {  # $1 = all | face
  rm -rf "$WORK/ctd-$1"
  local t0; t0=$(now)
  /usr/bin/time -v -o "$WORK/ctd-$1-time.txt" "$CTD" -v deface-nifti -i "$WORK/ct_0000.nii.gz" -o "$WORK/ctd-$1" \
    --model "$MODEL" --threads "$THREADS" --roi "$1" --roi-margin "$MARGIN" "${EXTRA[@]}" > "$WORK/ctd-$1.log" 2>&1 ||
    { tail -20 "$WORK/ctd-$1.log" >&2; exit 1; }
  echo "$(now) - $t0" | bc -l
}
all_s=$(run_ctd all)
face_s=$(run_ctd face)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The face region and tile counts, from the --roi face run's note.
note=$(grep -o -- '--roi face: .*' "$WORK/ctd-face.log" | head -1 || true)
box=$(echo "$note" | sed -n 's/.*face region \([0-9]*\)x\([0-9]*\)x\([0-9]*\) voxels at \[\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\4,\5,\6,\1,\2,\3/p')
[[ -n "$box" ]] && box=$(echo "$box" | awk -F, '{printf "%d,%d,%d,%d,%d,%d", $1, $2, $3, $1 + $4, $2 + $5, $3 + $6}')

nz=$(python3 -c "print(max(8, round(200 * $SIZE / 512)))")
printf '\nvolume %sx%sx%s, %s, %s threads, no TTA\n' "$SIZE" "$SIZE" "$nz" "$(tail -1 "$WORK/make_case.log" | sed 's/.*patch/patch/')" "$THREADS"
printf '%-28s %9s %9s %9s %9s\n' "" "wall s" "CPU s" "speed-up" "peak MiB"
printf '%-28s %9.1f %9s %9s %9d\n' "nnunetv2 nnUNetPredictor" "$nn_s" "$(cpu "$WORK/nnunet-time.txt")" "1.00x" "$(rss "$WORK/nnunet-time.txt")"
printf '%-28s %9.1f %9s %8.2fx %9d\n' "ctdeface --roi all" "$all_s" "$(cpu "$WORK/ctd-all-time.txt")" "$(echo "$nn_s / $all_s" | bc -l)" "$(rss "$WORK/ctd-all-time.txt")"
printf '%-28s %9.1f %9s %8.2fx %9d\n' "ctdeface --roi face" "$face_s" "$(cpu "$WORK/ctd-face-time.txt")" "$(echo "$nn_s / $face_s" | bc -l)" "$(rss "$WORK/ctd-face-time.txt")"
echo "goal: >= 5x with >= 0.999 voxel agreement"
# Arithmetic: every run computes whole tiles, so GFLOP per tile x tiles / wall is its end-to-end rate.
tiles=$(echo "$note" | sed -n 's/.* \([0-9]*\) of \([0-9]*\) tiles.*/\1 \2/p')
gflop=$(python3 "$here/nnunet/precision_probe.py" "$WORK" --flops-only --threads "$THREADS" 2>/dev/null | tail -1 || true)
peak=""; [[ -x "$BUILD/bench/bench_fma_peak" ]] &&
  peak=$(OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_fma_peak" | sed -n 's/.*ceiling: \([0-9]*\) GFLOP.*/\1/p')
if [[ -n "$tiles" && -n "$gflop" ]]; then
  read -r face_tiles all_tiles <<<"$tiles"
  python3 - "$gflop" "$all_tiles" "$face_tiles" "$nn_s" "$all_s" "$face_s" "${peak:-0}" <<'PY'
import sys
g, n_all, n_face, nn, a, f, peak = map(float, sys.argv[1:])
rate = lambda tiles, s: tiles * g / s
print(f"arithmetic: {g:.0f} GFLOP per tile; GFLOP/s end to end: nnunetv2 {rate(n_all, nn):.0f}, "
      f"--roi all {rate(n_all, a):.0f}, --roi face {rate(n_face, f):.0f}"
      + (f"; float32 FMA ceiling of these cores {peak:.0f}" if peak else ""))
need_all, need_face = rate(n_all, nn / 5), rate(n_face, nn / 5)
print(f"5x would need {need_all:.0f} GFLOP/s on all {n_all:.0f} tiles, {need_face:.0f} on the {n_face:.0f} face tiles"
      + (f" ({need_all / peak:.1f}x and {need_face / peak:.1f}x the ceiling)" if peak else ""))
PY
fi
echo "${note:---roi face: no note found in $WORK/ctd-face.log}"
box_arg=(); [[ -n "$box" ]] && box_arg=(--box "$box")
python3 "$here/nnunet/compare_masks.py" "$WORK/nnunet_mask.nii.gz" "$WORK"/ctd-all/*_mask.nii.gz "${box_arg[@]}" --label "--roi all  vs nnunetv2: "
python3 "$here/nnunet/compare_masks.py" "$WORK/nnunet_mask.nii.gz" "$WORK"/ctd-face/*_mask.nii.gz "${box_arg[@]}" --label "--roi face vs nnunetv2: "
