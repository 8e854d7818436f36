"""Screenshots of the napari dock at work, for the docs.

Run headless with ``xvfb-run -a .venv/bin/python scripts/screenshot.py [--only NAME ...]``. Opens the
bundled samples, drives the dock widget as a user would and saves the whole window, viewer and dock,
to ``docs/screenshot_*.png``: ``detect`` (the shipped model on the sample stack), ``loop`` (the whole
learning loop on a stack whose optics the shipped model was not trained for: detect, correct and
accept two frames, fine-tune, review the region it proposes, fine-tune again, close, reopen and
check that everything came back), ``opaque``, ``brightfield``, and ``gui`` (the window
``particle-detect gui IMAGE`` opens).
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

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
    from napari_particle_detect.files.io import read_image

    get_settings().application.gui_notification_level = "error"  # no info/warning toasts over the canvas
    viewer = napari.Viewer(show=True, title="napari-particle-detect")
    viewer.window._qt_window.resize(1700, 1080)
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
        viewer.scene.camera.center = (0.0, *centre)
    viewer.scene.camera.zoom *= zoom
    settle(app)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    layer = widget.annotation.points
    if layer is None:
        print(f"{out}: frame {widget.annotation.current_frame()}, no centres yet")
        return
    print(f"{out}: frame {widget.annotation.current_frame()}, {int(layer.shown.sum())} centres shown "
          f"in the stack, diameter {widget.annotation.project.diameter:.1f} px")


def shoot(viewer, app, out: Path) -> None:
    """The window as it is (no reset of the view)."""
    settle(app)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    print(f"{out}: camera at {tuple(round(v, 1) for v in viewer.scene.camera.center[-2:])} x{viewer.scene.camera.zoom:.1f}")


def gui_entry_point(args) -> None:
    """The window ``particle-detect gui seed_demo_opaque_discs_4.tif`` opens: the dock docked, the image open."""
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.widget import ParticleDetectWidget
    from napari_particle_detect.cli.gui import build_viewer

    get_settings().application.gui_notification_level = "error"
    # A copy, so the project folder the dock keeps beside an image goes to the scratch folder.
    image = shutil.copy(SAMPLES / "seed_demo_opaque_discs_4.tif", SCRATCH)
    viewer = build_viewer([image])
    viewer.window._qt_window.resize(1500, 1080)
    [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
    save(viewer, widget, QApplication.instance(), args.out / "screenshot_gui.png")
    viewer.close()


def detect_sample(args) -> None:
    """Detection on the synthetic stack of heavily overlapping particles."""
    viewer, widget, app = open_viewer("synthetic_stack.tif", args.model)
    detect_all(widget, app)
    viewer.dims.set_current_step(0, 0)
    save(viewer, widget, app, args.out / "screenshot_napari.png")
    viewer.close()


def shifted_stack(folder: Path) -> tuple[Path, pd.DataFrame]:
    """Dim, blurred, crowded fluorescent particles (outside the shipped model's training range) and their truth."""
    import numpy as np
    import pandas as pd
    import tifffile

    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    config = replace(benchmark_config("fluorescent", 0.8, (256, 256), radius=5.0), psf_sigma=2.5, peak_photons=60.0)
    samples = [synthesize(config, seed=200 + i) for i in range(6)]
    path = folder / "dim_beads.tif"
    tifffile.imwrite(path, np.stack([s.image for s in samples]).astype(np.float32))
    truth = pd.concat([pd.DataFrame({"frame": i, "y": s.centres[:, 0], "x": s.centres[:, 1]})
                       for i, s in enumerate(samples)], ignore_index=True)
    return path, truth


def correct(layer, truth, frame: int, box=None) -> None:
    """What a careful annotator ends with: the frame's (or the box's) points are the true centres."""
    import numpy as np

    from napari_particle_detect.projects.project import Region

    on_frame = layer.data[:, 0] == frame
    mine = truth[truth["frame"] == frame]
    if box is not None:
        region = Region(frame, *box)
        on_frame &= region.contains(layer.data[:, 1], layer.data[:, 2])
        mine = mine[region.contains(mine["y"], mine["x"])]
    layer.selected_data = set(np.flatnonzero(on_frame))
    layer.remove_selected()
    layer.add(mine[["frame", "y", "x"]].to_numpy(float))


def learning_loop(args) -> None:
    """The loop as a user runs it, then closing and reopening the project to check it all came back."""
    import napari
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.widget import ParticleDetectWidget

    get_settings().application.gui_notification_level = "error"
    path, truth = shifted_stack(SCRATCH)

    def open_project():
        viewer = napari.Viewer(show=True, title="napari-particle-detect")
        viewer.window._qt_window.resize(1800, 1180)
        viewer.open(path, plugin="napari")
        widget = ParticleDetectWidget(viewer, default_model=args.model)
        viewer.window.add_dock_widget(widget, name="Particle detection", area="right")
        return viewer, widget, QApplication.instance()

    def fine_tune(widget, app):
        started = time.monotonic()
        widget.finetune.run_button.click()
        wait_for(lambda: not widget.finetune.running(), app)
        print(f"  round in {time.monotonic() - started:.0f} s, phases {widget.finetune.phases}: "
              f"{widget.finetune.status.text()}")

    viewer, widget, app = open_project()
    widget.detect.diameter_spin.setValue(10.0)
    detect_all(widget, app)
    layer = widget.annotation.points
    for frame in (0, 1):  # correct two frames and accept them (Enter)
        viewer.dims.set_current_step(0, frame)
        correct(layer, truth, frame)
        widget.review.accept_and_next()
    fine_tune(widget, app)
    detect_all(widget, app)
    widget.review.review_next()  # N: the region the model hesitates most over
    frame = widget.annotation.current_frame()
    box = widget.annotation.regions.draft_box(frame)
    print(f"  {widget.review.suggestion.text()}")
    correct(layer, truth, frame, box)
    widget.review.accept_region()  # Shift+Enter
    fine_tune(widget, app)
    detect_all(widget, app)
    # The accepted region (green outline; accepted points green, added cyan) among new detections.
    from napari_particle_detect._napari.regions import zoom_to_box

    viewer.dims.set_current_step(0, frame)
    y0, x0, y1, x1 = box
    zoom_to_box(viewer, widget.annotation.image, (y0 - 30, x0 - 30, y1 + 30, x1 + 30), fill=0.9)
    shoot(viewer, app, args.out / "screenshot_napari_review.png")
    widget.review.review_next()  # and what to review next, with the reason
    shoot(viewer, app, args.out / "screenshot_napari_next.png")
    project = widget.annotation.project
    before = {"rounds": [(r.number, r.f1, r.improved) for r in project.rounds],
              "current": project.current_round.number, "reviewed": project.reviewed_frames,
              "regions": project.regions(), "threshold": widget.state.threshold,
              "centres": len(widget.annotation.table())}
    viewer.close()
    settle(app)

    viewer, widget, app = open_project()  # reopened: everything is back
    project = widget.annotation.project
    after = {"rounds": [(r.number, r.f1, r.improved) for r in project.rounds],
             "current": project.current_round.number, "reviewed": project.reviewed_frames,
             "regions": project.regions(), "threshold": widget.state.threshold,
             "centres": len(widget.annotation.table())}
    for key in before:
        print(f"  reopened {key}: {'same' if before[key] == after[key] else f'{before[key]} -> {after[key]}'}")
    assert before == after, (before, after)
    assert len(viewer.layers["dim_beads reviewed regions"].data) == len(after["regions"])
    assert widget.finetune.table.rowCount() == len(after["rounds"])
    assert not list((project.folder / "rounds").glob(".building-*"))
    if args.all_steps:
        viewer.dims.set_current_step(0, after["regions"][0].frame)
        save(viewer, widget, app, args.out / "screenshot_napari_reopened.png")
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


SCREENSHOTS = {"gui": gui_entry_point, "detect": detect_sample, "loop": learning_loop, "opaque": opaque_discs,
               "brightfield": brightfield}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model to start from (default: shipped weights)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", nargs="+", choices=SCREENSHOTS, default=list(SCREENSHOTS),
                        help="make only these screenshots (default: all)")
    parser.add_argument("--all-steps", action="store_true", help="also save the reopened project of 'loop'")
    args = parser.parse_args()
    for name in args.only:
        SCREENSHOTS[name](args)


if __name__ == "__main__":
    main()
