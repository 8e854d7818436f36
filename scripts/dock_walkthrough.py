"""Use the dock as a user would, in a real napari window 1000 px high, and check the rules of issue 19.

Run headless with ``xvfb-run -a .venv/bin/python scripts/dock_walkthrough.py [OUT_FOLDER]``. A single
2D image: Detect, move the threshold (the canvas changes), Export; Enter at threshold 0.99 (the dock
asks; No, then Yes), U (the points come back). A stack: Detect, draw and accept a box, N twice
(one proposal box at a time), accept a frame, a short round, close the image (no text of it stays),
open it again (the centres layer active); an edit, Detect again and Ctrl+Z; the dock closed with its
X and reopened; another round. Flat noise: the diameter's low confidence is shown.
Screenshots (whole window) and a line per check go to OUT_FOLDER (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

SCRATCH = Path(tempfile.mkdtemp(prefix="particle-detect-walkthrough-"))
os.environ["NAPARI_PARTICLE_DETECT_HOME"] = str(SCRATCH)
os.environ["NAPARI_CONFIG"] = str(SCRATCH / "napari-settings.yaml")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tifffile  # noqa: E402

from napari_particle_detect.shipped import SAMPLE_DATA_DIR  # noqa: E402


def _out_folder() -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=SCRATCH / "shots", help="screenshots go here")
    return parser.parse_args().out


# Read from the command line only when run: the other walkthroughs import this module with their own arguments.
OUT = _out_folder() if __name__ == "__main__" else SCRATCH / "shots"
CHECKS: list[str] = []


def check(condition: bool, what: str) -> None:
    CHECKS.append(f"{'ok  ' if condition else 'FAIL'} {what}")
    print(CHECKS[-1], flush=True)


def settle(app, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(condition, app, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not finish in time")
        app.processEvents()
        time.sleep(0.02)


def answer(widget, answers: list[bool]) -> list[str]:
    """Click Yes/No in the dock's questions as they open, like a user; returns the questions."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QMessageBox

    asked: list[str] = []

    def tick():
        box = widget.review.dialog
        if box is not None and box.isVisible() and box.property("answered") is None:
            box.setProperty("answered", True)
            asked.append(box.text())
            yes = answers.pop(0) if answers else True
            box.button(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No).click()

    timer = QTimer(widget)
    timer.setInterval(50)
    timer.timeout.connect(tick)
    timer.start()
    return asked


def press(viewer, app, key) -> None:
    from qtpy.QtTest import QTest

    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    QTest.keyClick(canvas, key)
    settle(app, 0.2)


def shoot(viewer, app, name: str) -> Path:
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    print(f"  screenshot {path}", flush=True)
    return path


def choose(widget, app, name: str) -> None:
    """Pick the image in the dock's Image list, as a user does after opening another one."""
    widget.image_combo.setCurrentIndex(widget.image_combo.findText(name))
    settle(app, 0.3)


def detect(widget, app, scope: int) -> None:
    widget.detect.scope_combo.setCurrentIndex(scope)
    widget.detect.run_button.click()
    wait_for(lambda: not widget.detect.running(), app)


def main() -> int:
    import napari
    from napari.settings import get_settings
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.regions import rectangle
    from napari_particle_detect.learning.finetune import FINE_TUNE
    from napari_particle_detect.files.io import read_image

    get_settings().application.gui_notification_level = "error"
    viewer = napari.Viewer(show=True, title="napari-particle-detect")
    viewer.window._qt_window.resize(1500, 1000)
    app = QApplication.instance()
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    widget.detect.device_combo.setCurrentText("cpu")
    answers: list[bool] = []
    asked = answer(widget, answers)

    # ---- a single 2D image ----------------------------------------------------------------------
    still = SCRATCH / "still.tif"
    tifffile.imwrite(still, read_image(SAMPLE_DATA_DIR / "synthetic_stack.tif")[0])
    viewer.open(still, plugin="napari")
    settle(app)
    detect(widget, app, 0)
    annotation = widget.annotation
    layer = annotation.points
    widget.detect.set_threshold(0.1)
    low_count = len(layer.data)
    low = viewer.screenshot(canvas_only=True, flash=False)
    shoot(viewer, app, "still_threshold_low.png")
    widget.detect.set_threshold(0.6)
    settle(app)
    high_count = len(layer.data)
    high = viewer.screenshot(canvas_only=True, flash=False)
    shoot(viewer, app, "still_threshold_high.png")
    drawn = viewer.window._qt_viewer.canvas.layer_to_visual[layer].node._subvisuals[0]._data
    check(high_count < low_count and not np.array_equal(low, high) and len(drawn) == high_count,
          f"2D: threshold 0.10 -> 0.60 draws {low_count} -> {high_count} rings (vispy draws {len(drawn)})")
    exported = pd.read_csv(widget.export.export(SCRATCH / "still.csv"))
    check(len(exported) == high_count, f"2D: Export writes the {len(exported)} centres drawn")
    widget.detect.set_threshold(annotation_threshold := widget.state.model_threshold())
    before = annotation.frame_table(0)
    widget.detect.set_threshold(0.99)
    answers[:] = [False, True]
    press(viewer, app, Qt.Key.Key_Return)
    check(len(asked) == 1 and annotation.project.reviewed_frames == [],
          f"Enter at 0.99: asked ({asked[0][:90] if asked else 'nothing'}...), No leaves it unreviewed")
    press(viewer, app, Qt.Key.Key_Return)
    check(annotation.project.reviewed_frames == [0], f"Yes accepts it with {len(annotation.project.load_frame(0))}")
    press(viewer, app, Qt.Key.Key_U)
    restored = annotation.frame_table(0)
    check(annotation.project.reviewed_frames == [] and len(restored) == len(before),
          f"U un-accepts it and restores its {len(restored)} points (threshold {annotation_threshold:.2f} shows "
          f"{int((restored['score'] > annotation_threshold).sum())})")
    widget.detect.set_threshold(annotation_threshold)

    # ---- a stack ----------------------------------------------------------------------------------
    movie = SCRATCH / "movie.tif"
    tifffile.imwrite(movie, read_image(SAMPLE_DATA_DIR / "seed_demo_opaque_discs_4.tif")[:3, :192, :192])
    viewer.open(movie, plugin="napari")
    settle(app)
    choose(widget, app, "movie")
    check(widget.annotation.image.name == "movie" and widget.finetune.status.text() == ""
          and widget.detect.estimate_label.text() == "", "another image: no text of the last one stays")
    detect(widget, app, 1)
    annotation = widget.annotation
    viewer.dims.set_current_step(0, 0)
    press(viewer, app, Qt.Key.Key_R)
    check(viewer.layers.selection.active is annotation.regions.draft, "R: the review box layer is active")
    annotation.regions.draft.add_rectangles(rectangle(0, (-0.5, -0.5, 70.5, 80.5), stack=True))  # a drag's box
    settle(app, 0.3)
    check(viewer.layers.selection.active is annotation.points, "after the box: the centres layer is active again")
    press(viewer, app, Qt.Key.Key_P)
    check(annotation.points.mode == "add", "P reaches the centres layer (add mode)")
    annotation.points.mode = "pan_zoom"
    widget.review.accept_region()
    widget.review.review_next()
    widget.review.review_next()
    check(len(annotation.regions.draft.data) == 1, "N twice: one proposal box left on screen")
    shoot(viewer, app, "stack_review_next.png")
    viewer.dims.set_current_step(0, 1)
    press(viewer, app, Qt.Key.Key_Return)
    started = time.monotonic()
    # Long enough to be seen mid-round on a fast machine (60 steps ended within the 1.7 s wait below).
    widget.finetune.run(replace(FINE_TUNE, steps_per_epoch=200, batch_size=4, threads=1))
    wait_for(lambda: len(widget.finetune.loss_plot.losses) >= 3 or not widget.finetune.running(), app)
    settle(app, 1.7)  # the loss curve redraws at most every 1.5 s
    during = widget.finetune.status.text()
    drawn = len(widget.finetune.loss_plot.line.get_xdata())
    check(widget.finetune.running() and during.startswith("training: step") and drawn >= 3,
          f"mid-round: '{during[:60]}', the loss curve holds {drawn} points")
    shoot(viewer, app, "stack_mid_round.png")
    wait_for(lambda: not widget.finetune.running(), app)
    project = annotation.project
    latest = project.rounds[-1]
    check(True, f"round in {time.monotonic() - started:.0f} s (under load): {widget.finetune.status.text()}")
    check(latest.improved is True or project.current_round.number == 1,
          "the round is used only when it beat its parent")
    shoot(viewer, app, "stack_after_round.png")
    viewer.layers.remove("movie")
    settle(app)
    # The dock goes back to the image still open: what it shows is that image's, nothing of the stack's.
    leftovers = [widget.finetune.status.text(), widget.review.suggestion.text(), widget.detect.progress.text()]
    check(widget.annotation.image.name == "still" and not any(leftovers) and not widget.finetune.loss_plot.losses
          and "Frame 1 of 1" in widget.review.status.text(),
          f"stack closed: back on 'still', no verdict, loss curve, 'Next:' or progress of the stack {leftovers}")
    viewer.open(movie, plugin="napari")
    settle(app)
    choose(widget, app, "movie")
    check(viewer.layers.selection.active is widget.annotation.points
          and len(widget.annotation.project.regions()) >= 1, "reopened: centres active, regions back")
    shoot(viewer, app, "stack_reopened.png")

    # ---- edits, Detect again, the dock closed and reopened, another round ---------------------------
    from napari.utils.notifications import notification_manager
    from qtpy.QtWidgets import QDockWidget

    annotation = widget.annotation
    viewer.dims.set_current_step(0, 2)
    settle(app)
    annotation.points.add([[2, 30.0, 30.0]])
    settle(app)
    edited = annotation.frame_table(2)
    seen = len(notification_manager.records)
    detect(widget, app, 0)
    said = [str(n.message) for n in notification_manager.records[seen:]]
    annotation.undo(2)
    settle(app)
    check(any("over your edits on frame 2:" in m for m in said) and len(annotation.frame_table(2)) == len(edited),
          "Detect again over frame 2's edits says so; Ctrl+Z brings the edits back")
    dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget) if "Particle detection" in d.windowTitle())
    dock.title.close_button.click()  # the dock's X
    settle(app)
    left = [layer.name for layer in viewer.layers]
    check(not any(name.endswith((" centres", " heatmap", " regions", " box")) for name in left),
          f"dock closed (its X): its layers put away, left {left}")
    shoot(viewer, app, "dock_closed.png")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    widget.detect.device_combo.setCurrentText("cpu")
    choose(widget, app, "movie")
    names = [layer.name for layer in viewer.layers]
    check(names.count("movie centres") == 1 and not any("[1]" in n for n in names)
          and len(widget.annotation.frame_table(2)) == len(edited),
          f"dock reopened: one centres layer, the edits there ({names})")
    viewer.dims.set_current_step(0, 2)
    press(viewer, app, Qt.Key.Key_Return)
    rounds_before = len(widget.annotation.project.rounds)
    widget.finetune.run(replace(FINE_TUNE, steps_per_epoch=60, batch_size=4, threads=1))
    wait_for(lambda: not widget.finetune.running(), app)
    check(len(widget.annotation.project.rounds) == rounds_before + 1 and widget.finetune.status.text().startswith("round-"),
          f"a round after the reopen: {widget.finetune.status.text()[:110]}")
    shoot(viewer, app, "reopened_dock_round.png")

    # ---- flat noise -------------------------------------------------------------------------------
    noise = SCRATCH / "noise.tif"
    tifffile.imwrite(noise, np.random.default_rng(0).normal(100, 5, (128, 128)).astype(np.float32))
    viewer.open(noise, plugin="napari")
    settle(app)
    choose(widget, app, "noise")
    detect(widget, app, 0)
    warning = widget.detect.estimate_warning
    check(warning.isVisible(), f"noise: {widget.detect.estimate_label.text()}; {warning.text()}")
    shoot(viewer, app, "noise_low_confidence.png")
    widget.grab().save(str(OUT / "dock_noise.png"))

    (OUT / "checks.txt").write_text("\n".join(CHECKS) + "\n")
    viewer.close()
    failed = [c for c in CHECKS if c.startswith("FAIL")]
    print(f"{len(CHECKS) - len(failed)} of {len(CHECKS)} checks passed; screenshots in {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
