#!/usr/bin/env bash
# Fresh machine -> defaced sample: installs dependencies, builds, unpacks the bundled
# real head CT and runs the main job on it. Output in build/sample/out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p build/sample/in
tar -xJf data/sample/ct-head-ge-tilt.tar.xz -C build/sample/in
rm -rf build/sample/out build/sample/nifti
./build/ctdeface -i build/sample/in/ct-head-ge-tilt -o build/sample/out --nifti-root-out build/sample/nifti
echo "Defaced DICOM: build/sample/out   NIfTI copies: build/sample/nifti   Report: build/sample/out/ctdeface-report.json"
