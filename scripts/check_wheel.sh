#!/usr/bin/env bash
# The package as a user gets it: build the sdist and the wheel from it, install the wheel into a fresh
# virtual environment that cannot see this checkout, and from a folder outside the checkout detect
# centres on a packaged sample, score them against its truth, load every sample of the napari plugin
# through napari's plugin manager (npe2) and import the dock. Needs no display and no GPU.
#
#   scripts/check_wheel.sh            (PYTHON=python3.11 scripts/check_wheel.sh for another interpreter)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
MIN_F1=0.85  # the shipped UNet scores 0.94 on this stack; a wheel without its weights cannot detect at all
WORK="$(mktemp -d "${TMPDIR:-/tmp}/particle-detect-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
unset PYTHONPATH PYTHONHOME
START=$SECONDS
step() { echo "== check_wheel $((SECONDS - START)) s: $*"; }

step "a fresh virtual environment (no system site-packages)"
"$PYTHON" -m venv "$WORK/venv"
BIN="$WORK/venv/bin"
"$BIN/pip" install --quiet --upgrade pip build

step "build the sdist, then the wheel from it"
"$BIN/python" -m build --outdir "$WORK/dist" "$REPO" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
# Lines naming files the build copies or adds are no warnings, whatever the files are called (test_*_warnings.py).
if grep -i "warning" "$WORK/build.log" | grep -vi "byte-compil" | grep -vE "^(copying|adding) "; then
    echo "check_wheel: the build warns (above)"; exit 1
fi
WHEEL="$(ls "$WORK"/dist/napari_particle_detect-*.whl)"
ls -l "$WORK"/dist

# torch first and pinned, as in the Makefile: unpinned, pip pulls a multi-GB CUDA build.
step "install torch==2.13.0, then the wheel with its napari extra"
"$BIN/pip" install --quiet torch==2.13.0
"$BIN/pip" install --quiet "$WHEEL[napari]"

cd "$WORK"
step "the installed package, not the checkout"
SAMPLES="$("$BIN/python" -c 'from napari_particle_detect.shipped import SAMPLE_DATA_DIR; print(SAMPLE_DATA_DIR)')"
case "$SAMPLES" in
    "$WORK/venv/"*) echo "sample data in $SAMPLES" ;;
    *) echo "check_wheel: napari_particle_detect imported from $SAMPLES, not from the fresh environment"; exit 1 ;;
esac

step "particle-detect detect on a packaged sample, scored against its truth"
"$BIN/particle-detect" detect "$SAMPLES/synthetic_stack.tif" -o centres.csv --overlay overlay.png
"$BIN/particle-detect" evaluate centres.csv "$SAMPLES/synthetic_stack_truth.csv" --json >scores.json
"$BIN/python" - "$MIN_F1" <<'EOF'
import json, sys
f1 = json.load(open("scores.json"))["f1"]
print(f"F1 {f1:.3f} on the packaged synthetic stack")
sys.exit(0 if f1 >= float(sys.argv[1]) else f"check_wheel: F1 {f1:.3f} is below {sys.argv[1]}")
EOF

step "the napari plugin: manifest, every sample loader, the dock's import"
"$BIN/npe2" validate napari-particle-detect
"$BIN/python" - <<'EOF'
import numpy as np
from npe2 import PluginManager

manager = PluginManager.instance()
manager.discover()
samples = manager.get_manifest("napari-particle-detect").contributions.sample_data
assert len(samples) >= 4, samples
def size(data) -> str:
    """An array's shape, or how many shapes a Shapes layer's list holds (its lines differ in length)."""
    return f"{len(data)} shapes" if isinstance(data, list) else str(np.shape(data))


for sample in samples:
    layers = sample.open()
    assert layers and all(len(data) if isinstance(data, list) else np.size(data) for data, _, _ in layers), sample.key
    print(f"sample {sample.key}: " + ", ".join(f"{kind} {size(data)}" for data, _, kind in layers))

import napari_particle_detect._napari.widget  # noqa: F401  (Qt widgets import without a display)
EOF

step "passed"
