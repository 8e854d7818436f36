# Two commands on a fresh machine: `make demo` and `make test` (each sets up what it needs first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out/demo

.PHONY: setup demo test xvfb screenshots

setup: $(STAMP)

# torch first and pinned: the machine carries the CPU build of 2.13.0; unpinned, pip pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# napari needs a real X server to draw images in headless tests; pytest-xvfb starts it.
xvfb:
	@command -v Xvfb >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb; fi; }

demo: $(STAMP)
	$(BIN)/particle-detect detect sample_data/seed_demo_opaque_discs_4.tif -o $(OUT)/seed_demo_centres.csv \
	    --overlay $(OUT)/seed_demo_overlay.png
	$(BIN)/particle-detect detect sample_data/synthetic_stack.tif -o $(OUT)/synthetic_centres.csv \
	    --overlay $(OUT)/synthetic_overlay.png
	$(BIN)/particle-detect evaluate $(OUT)/synthetic_centres.csv sample_data/synthetic_stack_truth.csv \
	    --plot $(OUT)/synthetic_evaluation.png
	@echo "demo outputs in $(OUT)/"

test: $(STAMP) xvfb
	$(BIN)/pytest -q

screenshots: $(STAMP) xvfb
	xvfb-run -a $(BIN)/python scripts/screenshot.py
