"""The dock's side of napari's crash on Mesa's software OpenGL (llvmpipe) under Xvfb (README, known limits;
scripts/napari_points_removal_segfault.py is plain napari's): a point moved, then the Particle detection dock
closed (its X) in the same turn of the event loop, before any canvas draw: the next draw ends in a
segmentation fault inside ``glDrawArrays``. Measured 2026-12-06 (napari 0.9.2, vispy 0.17.0, PyQt6, Mesa
22.3.6), each case alone in a fresh process:

    at-once         moved, dock closed in the same turn              crashed 6 of 6
    points-first    moved, centres layer removed at once, 0.3 s,     crashed 1 of 1 (the removal right after
                    dock closed                                      the move: napari's own pattern)
    wait0.3         moved, 0.3 s of the event loop, dock closed      no crash
    settled         moved, 2 s, dock closed                          no crash
    flushed         moved, edits written by hand, 0.3 s, closed      no crash
    unmoved         nothing moved, dock closed at once               no crash
    resize          moved, the window resized at once                no crash
    hide-dock       moved, the dock hidden at once                   no crash

A person's move and click on the X are many draws apart, so only scripts and tests meet it: the suite's test
of closing the dock over a move runs its viewer unshown (it crashed 2 of 5 suite runs shown).

Since 2026-12-07 no case crashes (at-once, points-first: exit 0): the docks make the canvas's OpenGL context
current before a layer leaves (_napari/layers.guard_canvas_from_removed_layers; the cause is in
scripts/napari_points_removal_segfault.py).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/dock_close_after_move_segfault.py at-once
"""

import faulthandler
import os
import sys
import tempfile
import time
from pathlib import Path

faulthandler.enable()
os.environ["NAPARI_PARTICLE_DETECT_HOME"] = tempfile.mkdtemp()

import napari  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import small_stack  # noqa: E402

from napari_particle_detect._napari.widget import ParticleDetectWidget  # noqa: E402

case = sys.argv[1] if len(sys.argv) > 1 else "at-once"
viewer = napari.Viewer(show=True)
app = QApplication.instance()


def settle(seconds: float) -> None:
    """Run the event loop a while, so the canvas draws."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


viewer.add_image(small_stack(2, 64), name="cells")
widget = ParticleDetectWidget(viewer)
viewer.window.add_dock_widget(widget)
widget.detect.device_combo.setCurrentText("cpu")
widget.detect.scope_combo.setCurrentIndex(0)
widget.detect.run_button.click()
while widget.detect.running():
    settle(0.05)
settle(0.2)
annotation = widget.annotation
if case != "unmoved":
    moved = annotation.points.data.copy()
    moved[0, 1:] += 2.0  # a point dragged 2 px
    annotation.points.data = moved
if case == "points-first":
    viewer.layers.remove(annotation.points)
    settle(0.3)
elif case == "settled":
    settle(2.0)
elif case.startswith("wait"):
    settle(float(case[4:]))
elif case == "flushed":
    annotation.flush()
    settle(0.3)
if case == "resize":
    viewer.window.resize(1500, 950)
elif case == "hide-dock":
    widget.parent().hide()
else:
    viewer.window.remove_dock_widget(widget)
settle(1.0)
print(f"{case}: no crash", flush=True)
viewer.close()
