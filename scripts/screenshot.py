"""Screenshots of the napari dock at work, for the docs.

Run headless with ``xvfb-run -a .venv/bin/python scripts/screenshot.py [--only NAME ...]``. Opens the
bundled samples, drives the dock widget as a user would (Detect with the shipped model, accept two
frames, a short fine-tune) and saves the whole window, viewer and dock, to ``docs/screenshot_*.png``;
``gui`` is the window ``particle-detect gui IMAGE`` opens.
Projects and napari settings go to a temporary folder, not beside the samples or into your profile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = Path(tempfile.mkdtemp(prefix="particle-detect-screens-"))
os.environ["NAPARI_PARTICLE_DETECT_HOME"] = str(SCRATCH)
os.environ["NAPARI_CONFIG"] = str(SCRATCH / "napari-settings.yaml")

from napari_particle_detect.shipped import SAMPLE_DATA_DIR as SAMPLES  # noqa: E402  (after the settings paths)


def settle(app, seconds: float = 1.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(condition, app, timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not finish in time")
        app.processEvents()
        time.sleep(0.02)


def open_viewer(image_file: str, model: Path | None):
    import napari
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.widget import ParticleDetectWidget
    from napari_particle_detect.io import read_image

    get_settings().application.gui_notification_level = "error"  # no info/warning toasts over the canvas
    viewer = napari.Viewer(show=True, title="napari-particle-detect")
    viewer.window._qt_window.resize(1500, 1080)
    viewer.add_image(read_image(SAMPLES / image_file), name=Path(image_file).stem)
    widget = ParticleDetectWidget(viewer, default_model=model)
    viewer.window.add_dock_widget(widget, name="Particle detection", area="right")
    return viewer, widget, QApplication.instance()


def detect_all(widget, app) -> None:
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    wait_for(lambda: not widget.detect.running(), app)


def save(viewer, widget, app, out: Path, zoom: float = 1.0, centre: tuple[float, float] | None = None) -> None:
    viewer.reset_view()
    if centre is not None:
        viewer.camera.center = (0.0, *centre)
    viewer.camera.zoom *= zoom
    settle(app)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    layer = widget.annotation.points
    if layer is None:
        print(f"{out}: frame {widget.annotation.current_frame()}, no centres yet")
        return
    print(f"{out}: frame {widget.annotation.current_frame()}, {int(layer.shown.sum())} centres shown "
          f"in the stack, diameter {widget.annotation.project.diameter:.1f} px")


def gui_entry_point(args) -> None:
    """The window ``particle-detect gui seed_demo_opaque_discs_4.tif`` opens: the dock docked, the image open."""
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.widget import ParticleDetectWidget
    from napari_particle_detect.gui import build_viewer

    get_settings().application.gui_notification_level = "error"
    # A copy, so the project folder the dock keeps beside an image goes to the scratch folder.
    image = shutil.copy(SAMPLES / "seed_demo_opaque_discs_4.tif", SCRATCH)
    viewer = build_viewer([image])
    viewer.window._qt_window.resize(1500, 1080)
    [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
    save(viewer, widget, QApplication.instance(), args.out / "screenshot_gui.png")
    viewer.close()


def detect_and_finetune(args) -> None:
    # 1. Detection on the synthetic stack of heavily overlapping particles.
    viewer, widget, app = open_viewer("synthetic_stack.tif", args.model)
    detect_all(widget, app)
    viewer.dims.set_current_step(0, 0)
    save(viewer, widget, app, args.out / "screenshot_napari.png")

    # 2. Review and fine-tune: frames 0 and 1 corrected to the generator's exact centres (as a careful
    #    annotator would), accepted, and a short training round; frame 1 is held out to score it.
    from napari_particle_detect.io import read_centres

    truth = read_centres(SAMPLES / "synthetic_stack_truth.csv")
    layer = widget.annotation.points
    for frame in (0, 1):
        viewer.dims.set_current_step(0, frame)
        layer.selected_data = set((layer.data[:, 0] == frame).nonzero()[0])
        layer.remove_selected()
        layer.add(truth.loc[truth["frame"] == frame, ["frame", "y", "x"]].to_numpy(float))
        widget.review.accept_and_next()
    quick = replace(widget.finetune.settings, epochs=2, steps_per_epoch=20)
    widget.finetune.run(quick)
    wait_for(lambda: not widget.finetune.running(), app)
    viewer.dims.set_current_step(0, 0)
    save(viewer, widget, app, args.out / "screenshot_napari_review.png", zoom=2.5, centre=(60.0, 60.0))
    viewer.close()


def opaque_discs(args) -> None:
    # 3. Real data: opaque, occluding discs from the original project.
    viewer, widget, app = open_viewer("seed_demo_opaque_discs_4.tif", args.model)
    detect_all(widget, app)
    viewer.dims.set_current_step(0, 0)
    save(viewer, widget, app, args.out / "screenshot_napari_opaque.png", zoom=1.8, centre=(256.0, 256.0))
    viewer.close()


def brightfield(args) -> None:
    # 4. Real bright-field rings: the dock shows the estimated size and that particles read as ringed.
    viewer, widget, app = open_viewer("trackpy_brightfield_3.tif", args.model)
    detect_all(widget, app)
    viewer.dims.set_current_step(0, 0)
    save(viewer, widget, app, args.out / "screenshot_napari_brightfield.png")
    viewer.close()


SCREENSHOTS = {"gui": gui_entry_point, "detect": detect_and_finetune, "opaque": opaque_discs,
               "brightfield": brightfield}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model to start from (default: shipped weights)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", nargs="+", choices=SCREENSHOTS, default=list(SCREENSHOTS),
                        help="make only these screenshots (default: all)")
    args = parser.parse_args()
    for name in args.only:
        SCREENSHOTS[name](args)


if __name__ == "__main__":
    main()
