#!/usr/bin/env bash
# Installs everything ctdeface needs to build and test on Debian 12 (run as root).
# Product dependencies are Debian packages only; Python packages are for test oracles.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PKGS=(
  build-essential cmake ninja-build pkg-config xz-utils
  libgdcm-dev libgdcm-tools libinsighttoolkit5-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libzip-dev
  dcm2niix dicom3tools time bc ccache
  libdnnl-dev ocl-icd-opencl-dev opencl-headers zipcmp zipmerge ziptool
  libopencv-dev opencv-data libopenmpi-dev openmpi-bin
  libdlib-dev libblas-dev liblapack-dev libpng-dev
  chromium clang libclang-rt-14-dev libomp-14-dev
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--with-oracles" ]; then
  # Test oracles only (pydicom reads our output independently of GDCM).
  python3 -m pip install -q --disable-pip-version-check pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg numpy
fi
