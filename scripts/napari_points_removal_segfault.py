"""Minimal reproduction, for napari's issue tracker, of a crash in plain napari (no plugin imported):
a Points layer with a point just added (napari selects it), or a Shapes layer with a line just added,
is removed; the next draw of the canvas ends in a segmentation fault inside ``glDrawArrays``.
Seen with napari 0.9.2, vispy 0.17.0, PyQt6, under Xvfb on Mesa's software renderer (llvmpipe,
LLVM 15, Mesa 22.3.6). napari 0.6.3's fix for the Windows access violation on layer removal
(gc.collect and context.finish in VispyCanvas._remove_layer, #8122) is in this version, so this is
another path. Clearing a Points layer's selection and letting one draw happen before the removal
avoids it (``clear-first``); clearing it in the removal itself does not.

Cause (found 2026-12-07): napari's layer removal calls vispy's ``context.finish()``, which runs the queued GL
commands (the removed layer's buffer, program and texture deletions) at once, outside a paint, in whichever
OpenGL context is current: after the window is composed on screen, Qt's compositing context, not the canvas's.
The canvas's context keeps the deleted buffers bound, and its next draw dies in ``glDrawArrays``. Making the
canvas current before a layer leaves (``canvas-current``: ``SceneCanvas.set_current()`` on the layer list's
``removing`` event, as the plugin's docks do: ``_napari/layers.guard_canvas_from_removed_layers``) avoids it;
the fix upstream belongs before ``finish()`` in ``VispyCanvas._clean_and_update_scenegraph``.

    xvfb-run -a .venv/bin/python scripts/napari_points_removal_segfault.py points       # crashes
    xvfb-run -a .venv/bin/python scripts/napari_points_removal_segfault.py shapes       # crashes
    xvfb-run -a .venv/bin/python scripts/napari_points_removal_segfault.py clear-first  # does not
    xvfb-run -a .venv/bin/python scripts/napari_points_removal_segfault.py untouched    # does not
    xvfb-run -a .venv/bin/python scripts/napari_points_removal_segfault.py canvas-current  # points, does not
"""

import faulthandler
import sys
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

faulthandler.enable()
case = sys.argv[1] if len(sys.argv) > 1 else "points"
viewer = napari.Viewer(show=True)
app = QApplication.instance()


def settle(seconds: float = 0.5) -> None:
    """Run the event loop a while, so the canvas draws."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


if case == "canvas-current":
    canvas = viewer.window._qt_viewer.canvas._scene_canvas
    viewer.layers.events.removing.connect(lambda event: canvas.set_current())
rng = np.random.default_rng(0)
viewer.add_image(rng.random((4, 256, 256)).astype(np.float32), name="image")
viewer.dims.set_current_step(0, 1)
if case == "shapes":
    layer = viewer.add_shapes([np.array([[1, 10, 10], [1, 10, 50]])], shape_type="line", name="layer")
    settle()
    layer.add_lines(np.array([[1, 20.0, 10.0], [1, 20.0, 60.0]]))
else:
    points = np.column_stack([np.repeat([0, 1, 2, 3], 50), rng.random((200, 2)) * 256])
    layer = viewer.add_points(points, ndim=3, name="layer")
    settle()
    if case != "untouched":
        layer.add(np.array([[1, 40.0, 40.0]]))
    if case == "clear-first":
        layer.selected_data = set()
settle()
viewer.layers.remove("layer")
settle(0.3)
viewer.screenshot(str(Path(tempfile.mkdtemp()) / "after.png"), canvas_only=False, flash=False)
print(f"{case}: no crash", flush=True)
viewer.close()
