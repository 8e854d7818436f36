"""Closing the spheres dock (its X) after Review next killed napari under Mesa's software OpenGL (VMs, remote
desktops): the dock's centres and review box layers left the viewer, and the canvas's next draw after the dock's
room went to it died in glDrawArrays (SIGSEGV), losing whatever was not saved. napari deleted the layers' GL
buffers from Qt's compositing context, not the canvas's. A crash cannot be caught in the test's own process, so
a child process shows a real window under the test's X display (pytest-xvfb's) and does it."""

import os
import signal
import subprocess
import sys

import pytest

CHILD = r'''
import gc
import sys
import time

import napari
import napari.viewer  # noqa: F401
import numpy as np
from qtpy.QtWidgets import QApplication, QDockWidget

import napari_particle_detect._napari.widget  # noqa: F401
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

# The window's and the dock's modules (napari, torch, Qt: most of the process's objects) are imported above, not by
# the viewer and the dock, and set aside from the garbage collector: napari collects in full at each layer removal,
# and those and the automatic collections went over them all, some 2 s of CPU. The viewer's and the layers' objects,
# made after, are collected as ever (the removed layers' GL buffers are deleted as they were for a user).
gc.freeze()


def shown(canvas, still_s=0.2, at_most_s=5.0):
    """Run the event loop until the canvas has drawn and then stayed still ``still_s``, as it does once a change
    shows for a user (at most ``at_most_s``)."""
    app, start, draws = QApplication.instance(), time.monotonic(), []

    def drawn(_event):
        draws.append(time.monotonic())

    canvas.events.draw.connect(drawn, position="last")
    try:
        while time.monotonic() < start + at_most_s and not (draws and time.monotonic() > draws[-1] + still_s):
            app.processEvents()
            time.sleep(0.01)
    finally:
        canvas.events.draw.disconnect(drawn)


viewer = napari.Viewer(show=True)
canvas = viewer.window._qt_viewer.canvas._scene_canvas
viewer.window._qt_window.resize(1200, 800)
stack = np.stack([synthesize(benchmark_config("fluorescent", 0.5, (96, 96)), seed=s).image for s in range(2)])
viewer.add_image(stack, name="movie")
_, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
shown(canvas)
annotation = widget.state.require_annotation()
rng = np.random.default_rng(0)
# Scores around the threshold: the model hesitates, so Review next proposes a box (the review box layer).
annotation.set_detections({f: (rng.uniform(8, 88, (12, 2)), rng.uniform(0.3, 0.7, 12)) for f in range(2)})
steps = sys.argv[1].split(",")
for step in steps:
    if step == "next":
        widget.review.review_next()
    elif step == "region":
        widget.review.accept_region()
    shown(canvas)
print("layers before closing:", [layer.name for layer in viewer.layers], flush=True)
assert "movie review box" in viewer.layers
dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget) if "Particle detection" in d.windowTitle())
dock.title.close_button.click()
shown(canvas)
assert [layer.name for layer in viewer.layers] == ["movie"]  # its layers still leave with the dock
print("closed", flush=True)
viewer.close()
'''


def close_dock_in_a_window(tmp_path, steps: str) -> subprocess.CompletedProcess:
    script = tmp_path / "close_dock.py"
    script.write_text(CHILD)
    env = dict(os.environ)
    if env.get("QT_QPA_PLATFORM") == "offscreen":
        env.pop("QT_QPA_PLATFORM")  # offscreen draws nothing: the crash needs the X display's OpenGL
    env["NAPARI_PARTICLE_DETECT_HOME"] = str(tmp_path / "home")
    env["NAPARI_CONFIG"] = str(tmp_path / "napari-settings.yaml")  # the user's napari settings stay untouched
    # The docks' training warm-up (an import of torch._dynamo, some 4 s of CPU) would run beside the window for
    # nothing: no round is trained here, and the crash is the canvas's.
    env["NAPARI_PARTICLE_DETECT_NO_WARM_UP"] = "1"
    return subprocess.run([sys.executable, "-X", "faulthandler", str(script), steps], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_closing_the_dock_after_review_next_leaves_napari_running(tmp_path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs an X display (pytest-xvfb's) to show a real window")
    result = close_dock_in_a_window(tmp_path, "next")

    said = result.stdout[-3000:] + result.stderr.split("Extension modules")[0][-4000:]  # the crash's Python stack
    assert result.returncode != -signal.SIGSEGV, "napari crashed (SIGSEGV) as the dock closed:\n" + said
    assert result.returncode == 0, said
    assert "closed" in result.stdout, said
