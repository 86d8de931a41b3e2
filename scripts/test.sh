#!/usr/bin/env bash
# Fresh machine -> test results: installs dependencies (and the Python test oracles), builds, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-oracles
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
