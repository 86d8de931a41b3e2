#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz and runs each
# for SECONDS (default 60), seeded from ../shared/data and the test fixtures.
# Seeds are copied into a corpus folder (default build-fuzz/corpus/<target>);
# nothing is written into the shared data. Crashes, OOMs and timeouts are saved
# as build-fuzz/artifacts/<target>/<kind>-<hash> and make the script fail.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
ROOT=$(pwd)
BUILD=${CTD_FUZZ_BUILD:-$ROOT/build-fuzz}
SHARED=${CTD_SHARED_DATA:-$ROOT/../shared/data}
JOBS=${CTD_FUZZ_JOBS:-2}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(FuzzDicomSeries FuzzCheckpoint FuzzPlans)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (apt-get install clang libclang-rt-14-dev libomp-14-dev)" >&2; exit 2; }
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$ROOT")}
# -Werror stays with the GCC builds: clang under the sanitizers warns about
# vectorisation hints it cannot honour in other modules' kernels.
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCTDEFACE_FUZZ=ON -DCTDEFACE_BUILD_TESTS=OFF \
    -DCTDEFACE_BUILD_BENCH=OFF -DCTDEFACE_MPI=OFF -DCTDEFACE_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
fi
# Targets are built one by one: one that clang cannot build (another module's
# source using what clang 14 lacks) is reported loudly and left out, so the
# others still run.
built=()
for t in "${TARGETS[@]}"; do
  if ninja -C "$BUILD" -j"$JOBS" "$t" > "$BUILD/build-$t.log" 2>&1; then
    built+=("$t")
  else
    echo "!! $t does not build with clang (left out of this run):" >&2
    grep -m3 -E "error" "$BUILD/build-$t.log" >&2 || tail -3 "$BUILD/build-$t.log" >&2
  fi
done
[ ${#built[@]} -gt 0 ] || { echo "fuzz.sh: no target built" >&2; exit 1; }
TARGETS=("${built[@]}")

# Seeds: a few small real files per kind (a full series would make each input
# megabytes and the fuzzer slow), copied, never linked, into the corpus.
seed_dicom() {
  local dir=$1
  mkdir -p "$dir"
  local n=0
  while IFS= read -r -d '' f; do
    [ "$(stat -c %s "$f")" -le 200000 ] || continue
    cp "$f" "$dir/seed-$n.dcm"; n=$((n + 1))
  done < <(find "$SHARED/ct-codec-slices" "$SHARED/ct-head-fullface-slicer" "$SHARED/ct-phantom-philips-multiseries" \
             "$SHARED/ct-geometry-stubs" -type f ! -name '*.txt' ! -name '*.md' ! -name '*.json' -print0 2>/dev/null \
           | sort -z | awk -v RS='\0' -v ORS='\0' 'NR % 7 == 1')
  # Two slices of one series in one input: series assembly, not just one file.
  local series=("$SHARED"/ct-head-fullface-slicer/*.dcm)
  if [ -f "${series[0]:-}" ] && [ -f "${series[1]:-}" ]; then
    { cat "${series[0]}"; printf 'CTD-FUZZ-NEXT-FILE'; cat "${series[1]}"; } > "$dir/seed-pair.dcm"
  fi
}
seed_checkpoint() {
  mkdir -p "$1"
  find "$ROOT/tests/fixtures" -name '*.pth' -size -2M -print0 2>/dev/null | head -z -n 6 |
    while IFS= read -r -d '' f; do cp "$f" "$1/$(echo "$f" | md5sum | cut -c1-12).pth"; done
}
seed_plans() {
  mkdir -p "$1"
  local i=0
  while IFS= read -r -d '' plans; do
    local ds; ds="$(dirname "$plans")/dataset.json"
    [ -f "$ds" ] || continue
    { cat "$plans"; printf 'CTD-FUZZ-NEXT-FILE'; cat "$ds"; } > "$1/seed-$i.json"; i=$((i + 1))
    [ $i -lt 8 ] || break
  done < <(find "$ROOT/tests/fixtures" -name plans.json -print0 2>/dev/null)
}

# Inputs that once crashed, hung or over-allocated (fuzz/regressions/<target>/,
# each fixed) are replayed first: a regression fails the script whatever the mode.
# New findings of the timed run fail it too, unless CTD_FUZZ_NEW_FINDINGS=warn
# (CI: a 60 s random exploration must not make CI fail at random; the finding is
# printed and kept under build-fuzz/artifacts for a developer to fix and add here).
NEW_FINDINGS=${CTD_FUZZ_NEW_FINDINGS:-fail}
status=0
for t in "${TARGETS[@]}"; do
  reg="$ROOT/fuzz/regressions/$t"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$BUILD/fuzz/$t" -rss_limit_mb=3072 -malloc_limit_mb=2048 -timeout=10 \
        "$reg"/* > "$BUILD/$t-regressions.log" 2>&1; then
      echo "== $t: $(ls "$reg" | wc -l) regression inputs replayed, all handled"
    else
      status=1
      echo "!! $t: a regression input fails again: see $BUILD/$t-regressions.log" >&2
      grep -E "ERROR|SUMMARY|Assertion" "$BUILD/$t-regressions.log" | head -5 >&2 || true
    fi
  fi
done
for t in "${TARGETS[@]}"; do
  corpus=${CTD_FUZZ_CORPUS:-$BUILD/corpus}/$t
  artifacts=$BUILD/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  dict=()
  case $t in
    FuzzDicomSeries) seed_dicom "$corpus"; dict=(-dict="$ROOT/fuzz/dict/dicom.dict") ;;
    FuzzCheckpoint) seed_checkpoint "$corpus" ;;
    FuzzPlans) seed_plans "$corpus"; dict=(-dict="$ROOT/fuzz/dict/json.dict") ;;
  esac
  # Inputs on which a GDCM child process died (FuzzDicomSeries: the header
  # pass, failed by name as in the product) are handled, not findings: kept
  # and counted here. A sanitizer report inside a child still writes its
  # artifact (libFuzzer's handlers live on there), so artifacts are counted too.
  handled=$BUILD/handled/$t
  mkdir -p "$handled"
  artifacts_before=$(ls "$artifacts" | wc -l)
  echo "== $t: ${SECONDS_EACH}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  # One allocation over 2 GB is a bug (over-allocation), as is a 10 s
  # iteration (hang); the RSS limit leaves room for ASan's own bookkeeping.
  # Leak checks off, as in scripts/test-asan.sh: GDCM keeps process-lifetime
  # singletons; a leak per input still ends in the RSS limit.
  rc=0
  CTD_FUZZ_HANDLED_DIR=$handled ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:quarantine_size_mb=64} "$BUILD/fuzz/$t" "${dict[@]}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=3072 -malloc_limit_mb=2048 \
      -timeout=10 -max_len=262144 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
      > "$BUILD/$t.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ] || [ "$(ls "$artifacts" | wc -l)" -gt "$artifacts_before" ]; then
    [ "$NEW_FINDINGS" = warn ] || status=1
    echo "!! $t found a new problem ($NEW_FINDINGS; exit $rc, $(( $(ls "$artifacts" | wc -l) - artifacts_before )) new artifact(s)): see $BUILD/$t.log and $artifacts/" >&2
    grep -E "ERROR|SUMMARY" "$BUILD/$t.log" | head -5 >&2 || true
  fi
  grep -E "^#[0-9]+ +(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss" "$BUILD/$t.log" | tail -4 || true
  [ "$t" != FuzzDicomSeries ] ||
    echo "   $t: $(ls "$handled" | wc -l) inputs so far ended a GDCM child (handled as a per-file failure, kept in $handled)"
done
exit $status
