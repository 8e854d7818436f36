#!/usr/bin/env bash
# The Python wheels a lent GPU machine (the device tool's nvidia-h200: Python 3.12, no package
# registry) lacks for scripts/device_checks.sh, into .whl/ in the repository root, which git ignores
# here (.git/info/exclude) and the device tool carries: run(..., carry=[".whl"]).
# Run it here, once per checkout; it needs PyPI. Everything else those checks import (torch, numpy,
# scipy, pandas, scikit-learn, onnx, onnxruntime, tifffile, numba, matplotlib, pyyaml) is in the image.
set -eu
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
PIP=${PIP:-.venv/bin/pip}
# Pure-Python packages: built here as wheels (trackpy 0.7 is published as a source archive only).
$PIP wheel -q --no-deps -w .whl trackpy==0.7 looseversion==1.3.0 skops==0.16.0 prettytable wcwidth
ls -l .whl
