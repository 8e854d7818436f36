"""The dock's measurement, tracks and round-export pieces used as a user would, with screenshots.

Run headless with ``xvfb-run -a .venv/bin/python scripts/screenshot_tracks.py [OUTDIR]``: opens the
synthetic stack sample (File > Open), detects, measures and colours the centres by trackpy's mass,
links them, exports round-001 as a model file and detects with it from the command line; then does
the same on a synthetic movie of diffusing, drifting particles (the sample's frames are independent
draws, so nothing in it moves) with the drift subtracted, and saves the window to
``docs/screenshot_napari_tracks.png`` (other screenshots go to OUTDIR, default out/screens).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = Path(tempfile.mkdtemp(prefix="particle-detect-tracks-"))
os.environ["NAPARI_PARTICLE_DETECT_HOME"] = str(SCRATCH)
os.environ["NAPARI_CONFIG"] = str(SCRATCH / "napari-settings.yaml")

from screenshot import settle, wait_for  # noqa: E402  (after the settings paths)


def main() -> None:
    import napari
    import numpy as np
    import pandas as pd
    import tifffile
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication, QScrollArea

    from napari_particle_detect.cli import main as cli
    from napari_particle_detect._napari.widget import ParticleDetectWidget
    from napari_particle_detect.shipped import SAMPLE_DATA_DIR
    from napari_particle_detect.synthetic.spheres import SynthConfig
    from napari_particle_detect.synthetic.motion import diffusing_stack

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "out" / "screens", help="other screenshots go here")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    get_settings().application.gui_notification_level = "error"
    viewer = napari.Viewer(show=True, title="napari-particle-detect")
    viewer.window._qt_window.resize(1750, 1120)
    app = QApplication.instance()
    widget = ParticleDetectWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Particle detection", area="right")
    scroll = widget.findChild(QScrollArea)

    def detect_all() -> float:
        widget.detect.scope_combo.setCurrentIndex(1)
        started = time.monotonic()
        formats = []
        from qtpy.QtCore import QTimer

        # Read once the panel has updated its text for the frame (it sets the value first).
        widget.detect.progress.valueChanged.connect(
            lambda *_: QTimer.singleShot(0, lambda: formats.append(widget.detect.progress.text())))
        widget.detect.run_button.click()
        wait_for(lambda: not widget.detect.running(), app)
        print("detect progress texts:", formats)
        return time.monotonic() - started

    def link() -> None:
        widget.tracks.link()
        wait_for(lambda: not widget.tracks.running(), app)
        print("tracks:", widget.tracks.status.text())

    def shoot(name: Path, panel) -> None:
        scroll.ensureWidgetVisible(panel, 0, 0)
        if panel is widget.tracks:  # the last panel: all of it, down to the MSD plot's axis label
            settle(app, 0.3)
            scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
        settle(app, 1.5)
        viewer.screenshot(str(name), canvas_only=False, flash=False)
        print("saved", name)

    # 1. The sample stack, as File > Open opens it.
    sample = SAMPLE_DATA_DIR / "synthetic_stack.tif"
    viewer.open(str(sample))
    settle(app)
    print(f"sample: detect took {detect_all():.1f} s (under load)")
    widget.measure.measure_check.setChecked(True)
    widget.measure.colour_combo.setCurrentText("mass")
    print("legend:", widget.measure.legend.text())
    link()
    shoot(out / "sample_tracks.png", widget.tracks)

    # A round outside the dock: export round-001, detect with it from the command line.
    table = widget.finetune.table
    table.selectRow(0)
    actions = widget.finetune.round_actions
    print("delete enabled for the shipped round:", actions.delete_button.isEnabled(),
          "-", actions.delete_button.toolTip())
    exported = actions.export(SCRATCH / "sample-round-001.pt")
    code = cli.main(["-q", "detect", str(sample), "-o", str(SCRATCH / "with_export.csv"), "--model", str(exported)])
    print("detect --model", exported.name, "exit", code, "->", len(pd.read_csv(SCRATCH / "with_export.csv")), "centres")
    shoot(out / "sample_rounds.png", widget.finetune)

    # 2. A movie that moves: diffusing particles drifting down and right.
    stack, truth = diffusing_stack(SynthConfig(shape=(256, 256), area_fraction=0.15, radius_range=(4.0, 6.0)),
                                   n_frames=20, step=0.8, drift=(0.6, 0.4), seed=5)
    movie = SCRATCH / "diffusing_movie.tif"
    tifffile.imwrite(movie, stack)
    viewer.layers.remove(viewer.layers["synthetic_stack"])  # its centres and tracks go with it
    settle(app)
    print("layers left after closing the sample:", [layer.name for layer in viewer.layers])
    viewer.open(str(movie))
    settle(app)
    print(f"movie: detect took {detect_all():.1f} s (under load); truth: {truth['particle'].nunique()} particles")
    widget.measure.measure_check.setChecked(True)
    widget.measure.colour_combo.setCurrentText("mass")
    widget.tracks.range_spin.setValue(5.0)
    widget.tracks.memory_spin.setValue(2)
    widget.tracks.length_spin.setValue(5)
    widget.tracks.drift_check.setChecked(True)
    widget.tracks.mpp_spin.setValue(0.35)
    widget.tracks.fps_spin.setValue(10.0)
    link()
    viewer.dims.set_current_step(0, 19)
    shoot(ROOT / "docs" / "screenshot_napari_tracks.png", widget.tracks)
    written = widget.tracks.export(SCRATCH / "movie_tracks.csv")
    print("exported", written, pd.read_csv(written).columns.tolist())
    print("msd head:\n", pd.read_csv(SCRATCH / "movie_tracks_msd.csv").head(3))
    print("true per-axis step 0.8 px -> MSD per frame", 2 * (0.8 * 0.35) ** 2, "um^2 at lag 0.1 s")

    # 3. A round on the movie: the time left shown while it runs.
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    texts: list[str] = []
    from qtpy.QtCore import QTimer

    poll = QTimer()
    poll.timeout.connect(lambda: texts.append(widget.finetune.status.text()))
    poll.start(1000)
    started = time.monotonic()
    widget.finetune.run_button.click()
    shot = False
    while widget.finetune.running():
        app.processEvents()
        time.sleep(0.02)
        if not shot and "left" in widget.finetune.status.text() and "training" in widget.finetune.status.text():
            shoot(out / "round_time_left.png", widget.finetune)
            shot = True
    poll.stop()
    print(f"round took {time.monotonic() - started:.0f} s (under load); status every second:")
    for text in dict.fromkeys(texts):
        print("   ", text)
    print("final:", widget.finetune.status.text())

    # 4. Real Brownian motion: trackpy's bulk water sample (µm scale), File > Open Sample.
    viewer.layers.remove(viewer.layers["diffusing_movie"])
    viewer.open_sample("napari-particle-detect", "bulk_water")
    settle(app)
    print(f"bulk water: detect took {detect_all():.1f} s; µm/px prefilled: {widget.tracks.mpp_spin.value():.4f}")
    widget.tracks.drift_check.setChecked(False)
    widget.tracks.length_spin.setValue(3)
    widget.tracks.fps_spin.setValue(24.0)
    link()
    shoot(out / "bulk_water_tracks.png", widget.tracks)
    np.save(SCRATCH / "done.npy", np.zeros(1))
    viewer.close()


if __name__ == "__main__":
    main()
