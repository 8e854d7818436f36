"""Minimal reproduction, for napari's issue tracker, of the activity spinner left running after
``viewer.open`` (no plugin involved): the "Opening Files" progress bar is closed and deleted, but
``QtActivityDialog.maybe_hide_progress_indicator`` (connected to the bar's ``destroyed`` signal)
never runs, so the status bar's QMovie keeps repainting the window (about 17 times a second; 40 %
of a core under software OpenGL, which is why a fine-tuning round in the dock runs slower under
Xvfb). Opening and closing another ``napari.utils.progress`` does not stop it either; calling
the dialog's ``maybe_hide_progress_indicator`` by hand does. The check reads napari's private
widgets, as the report must; the plugin itself does not touch them.

    xvfb-run -a .venv/bin/python scripts/napari_spinner_repro.py
"""

import tempfile
import time
from pathlib import Path

import napari
import numpy as np
import tifffile
from napari.utils import progress
from qtpy.QtWidgets import QApplication


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.instance().processEvents()
        time.sleep(0.01)


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "stack.tif"
    tifffile.imwrite(path, np.random.default_rng(0).random((3, 64, 64), dtype=np.float32))
    viewer = napari.Viewer()
    dialog = viewer.window._qt_window._activity_dialog
    indicator = dialog._toggleButton._inProgressIndicator

    def report(when: str) -> None:
        print(f"{when}: spinner shown {indicator.isVisible()}, movie running "
              f"{indicator.movie().state() == indicator.movie().MovieState.Running}, "
              f"open progress objects {len(progress._all_instances)}")

    report("before viewer.open")
    viewer.open(path)
    spin(2.0)
    report("2 s after viewer.open")  # napari 0.9.2: shown, running, 0 open
    with progress(total=1, desc="another task") as bar:
        bar.update(1)
    spin(1.0)
    report("after another progress opened and closed")  # still running
    dialog.maybe_hide_progress_indicator()
    report("after maybe_hide_progress_indicator() by hand")  # stopped
    viewer.close()


if __name__ == "__main__":
    print(f"napari {napari.__version__}")
    main()
