# Two commands on a fresh machine: `make demo` and `make test` (each sets up what it needs first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out/demo
SAMPLES := napari_particle_detect/sample_data

.PHONY: setup demo test xvfb screenshots check-wheel

setup: $(STAMP)

# torch first and pinned: the machine carries the CPU build of 2.13.0; unpinned, pip pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# napari needs a real X server to draw images in headless tests (pytest-xvfb starts it), and Qt's
# xcb platform plugin needs these X libraries to start on it.
XPACKAGES := xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 libxcb-render-util0 \
	libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0 libxcb-cursor0 libgl1 libegl1 libfontconfig1 libdbus-1-3
xvfb:
	@missing=$$(for p in $(XPACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: $(STAMP)
	$(BIN)/particle-detect detect $(SAMPLES)/seed_demo_opaque_discs_4.tif -o $(OUT)/seed_demo_centres.csv \
	    --overlay $(OUT)/seed_demo_overlay.png
	$(BIN)/particle-detect detect $(SAMPLES)/synthetic_stack.tif -o $(OUT)/synthetic_centres.csv \
	    --overlay $(OUT)/synthetic_overlay.png
	$(BIN)/particle-detect evaluate $(OUT)/synthetic_centres.csv $(SAMPLES)/synthetic_stack_truth.csv \
	    --plot $(OUT)/synthetic_evaluation.png
	@echo "demo outputs in $(OUT)/"

# Two workers: most tests hold one core (one torch thread, Qt's event loop, a lock's wait), so the suite
# on two cores takes half the time (643 s -> about 310 s); each worker starts its own Xvfb.
# One test file per worker at a time (--dist loadfile): a file's module fixtures then run once, and each worker
# keeps its caches for the file's tests (474 s against 592 s spread test by test; 341 s with tests/conftest.py's
# freeze of the garbage collector, 2 idle cores).
# A worker that dies ends the run at once, naming the test (--max-worker-restart 0): with --dist loadfile, the
# worker started in its place left the dead one's file pending and the run hung until CI's time ran out.
# Bytecode written even where the environment says not to (PYTHONDONTWRITEBYTECODE): each worker and each of the
# hundreds of commands the tests start would otherwise compile the package again, and pytest rewrite every test
# module's asserts again (collection 15.5 s -> 7.1 s of a worker's CPU with the cache).
test: $(STAMP) xvfb
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n 2 --dist loadfile --max-worker-restart 0

screenshots: $(STAMP) xvfb
	xvfb-run -a $(BIN)/python scripts/screenshot.py

# The wheel as users install it: built, installed into a fresh environment that cannot see this
# checkout, then detect, the plugin's samples and its dock, run from outside the checkout.
check-wheel:
	PYTHON=$(PYTHON) scripts/check_wheel.sh
