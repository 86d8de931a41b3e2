#!/usr/bin/env bash
# Downloads the CTA-DEFACE nnU-Net v2 model (Dataset001_DEFACE, 3d_fullres, fold all) from the
# location its authors publish in their repository (https://github.com/CCI-Bonn/CTA-DEFACE,
# also github.com/rapmed/CTA-deface; README "Download the trained model from the following link"),
# and installs it into ctdeface's model store as "cta-deface".
#
# Mahmutoglu MA et al. Deep learning-based defacing tool for CT angiography: CTA-DEFACE.
# Eur Radiol Exp. 2024;8(1):111. doi:10.1186/s41747-024-00510-9. Cite it (and nnU-Net) when you use it.
#
# Usage:
#   scripts/download-cta-deface.sh                 # download (needs internet and `gdown`), then install
#   scripts/download-cta-deface.sh FILE.zip|FOLDER # install what you downloaded yourself
# Environment: CTDEFACE (the ctdeface binary; default: ctdeface on PATH, else build/ctdeface),
#              CTDEFACE_HOME (model store; default $XDG_DATA_HOME/ctdeface or ~/.local/share/ctdeface).
set -euo pipefail

AUTHORS_URL="https://drive.google.com/drive/folders/1k4o35Dkl7PWd2yvHqWA2ia-BNKrWBrqg?usp=sharing"
NAME="${CTDEFACE_MODEL_NAME:-cta-deface}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ctdeface="${CTDEFACE:-}"
if [[ -z "$ctdeface" ]]; then
  if command -v ctdeface >/dev/null 2>&1; then ctdeface="$(command -v ctdeface)"
  elif [[ -x "$here/build/ctdeface" ]]; then ctdeface="$here/build/ctdeface"
  else echo "error: ctdeface not found; set CTDEFACE=/path/to/ctdeface" >&2; exit 2; fi
fi

if [[ $# -ge 1 ]]; then
  exec "$ctdeface" model install "$1" --name "$NAME"
fi

# The weights are a Google Drive folder (Dataset001_DEFACE/nnUNetTrainer__nnUNetPlans__3d_fullres/...,
# about 250 MB). gdown can fetch a Drive folder; without it, download it in a browser
# ("Download" on the folder gives a zip) and pass that zip to this script.
if ! command -v gdown >/dev/null 2>&1; then
  cat >&2 <<MSG
gdown is not installed (pip install gdown), so this script cannot fetch the Google Drive folder itself.
Open $AUTHORS_URL in a browser, download the Dataset001_DEFACE folder (Drive gives a .zip), then run:
  $0 /path/to/the-download.zip
MSG
  exit 2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading CTA-DEFACE from $AUTHORS_URL"
gdown --folder "$AUTHORS_URL" -O "$tmp/cta-deface"
"$ctdeface" model install "$tmp/cta-deface" --name "$NAME"
