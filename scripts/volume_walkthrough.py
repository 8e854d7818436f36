"""The volume dock used as a user would, with screenshots (README's 3D section):

    xvfb-run -a .venv/bin/python scripts/volume_walkthrough.py

A synthetic confocal volume of unfamiliar optics (dye in a shell, dim, a long z PSF); the dock opened
from the Plugins menu (as a user does: napari hands it a proxy of the viewer); detect, edit a few
centres, Detect again over the edits and Undo, accept a 3D box and the whole volume, undo,
review-next, two fine-tuning rounds, export, close the dock with its X and open it again. Projects go
to a temporary home; screenshots to docs/.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

HOME = tempfile.mkdtemp(prefix="volume-demo-")
os.environ["NAPARI_PARTICLE_DETECT_HOME"] = HOME
DOCS = Path(__file__).resolve().parents[1] / "docs"

import napari  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import trackpy  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig  # noqa: E402
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume  # noqa: E402

torch.set_num_threads(1)
_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_parser.add_argument("steps", nargs="?", type=int, default=40, help="training steps of each round (default 40)")
STEPS = _parser.parse_args().steps


def wait(condition, timeout=600.0) -> None:
    start = time.monotonic()
    while not condition():
        QApplication.processEvents()
        time.sleep(0.05)
        if time.monotonic() - start > timeout:
            raise TimeoutError("the dock did not finish in time")


def grab(viewer, name: str) -> None:
    for _ in range(10):
        QApplication.processEvents()
    viewer.window._qt_window.grab().save(str(DOCS / name))
    print("screenshot", DOCS / name, flush=True)


def say(dock, what: str) -> None:
    print(f"{what}: review: {dock.review_panel.status.text()!r}; round: {dock.round_panel.status.text()!r}", flush=True)


def main() -> None:
    config = VolumeConfig(shape=(32, 96, 96), volume_fraction=0.45, diameter=10.0, z_step=2.0, psf_sigma_xy=1.5,
                          psf_z_ratio=3.5, dye="shell", photons=60.0, read_noise=4.0, depth_decay=0.3,
                          background=0.15, background_unevenness=0.6)
    sample = synthesize_volume(config, seed=4242)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    viewer.add_image(sample.image, name="confocal", scale=(2.0, 1.0, 1.0), colormap="gray")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    dock.diameter.setValue(10.0)
    dock.button.click()
    wait(lambda: "confocal 3D centres" in viewer.layers and dock.button.isEnabled())
    points = viewer.layers["confocal 3D centres"]
    viewer.dims.set_point(0, 16 * 2.0)  # slice 16 (z voxels are 2 long)
    say(dock, "detected")
    print(dock.status.text(), flush=True)
    grab(viewer, "volume_dock_detected.png")

    # Edit: one centre added by hand, the lowest-scoring one deleted (every edit saved at once).
    points.add([[16.0, 50.0, 50.0]])
    worst = int(np.nanargmin(points.features["score"].to_numpy(float)))
    points.selected_data = {worst}
    points.remove_selected()
    say(dock, "edited")
    # Detect again: the edits are replaced, one Undo away (the dock says so); Undo brings them back.
    dock.button.click()
    wait(lambda: dock.button.isEnabled() and dock.worker is None)
    print("detect again:", dock.status.text(), flush=True)
    dock.review_panel.undo()
    points = dock.points
    print("after undo:", int((points.features["source"] == "added").sum()), "added point(s) back", flush=True)

    # A 3D box drawn on the slice, over the z range set beside it; then the whole volume; then undo.
    dock.review_panel.draw_box()
    dock.review_panel.set_z_range(8, 24)
    box_layer = viewer.layers["3D review box"]
    box_layer.add_rectangles(np.array([[16, 10, 10], [16, 10, 60], [16, 60, 60], [16, 60, 10]], float))
    dock.review_panel.accept_box()
    say(dock, "box accepted")
    grab(viewer, "volume_dock_box_accepted.png")
    dock.review_panel.accept_volume()
    say(dock, "volume accepted")
    dock.review_panel.undo()
    say(dock, "undo")
    print("next:", dock.review_panel.review_next(), flush=True)
    grab(viewer, "volume_dock_review_next.png")
    # The user checks the proposal, then accepts the whole volume (here the truth stands in for the checking).
    c = sample.centres
    dock.show_points(dock.layer(), pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2],
                                                 "score": np.nan, "source": "added"}), 10.0, 5.0)
    dock.review.save_edits(0, dock.table_of(0))
    dock.review_panel.accept_volume()
    say(dock, "corrected volume accepted")

    for n in (1, 2):
        start = time.monotonic()
        dock.round_panel.run(VolumeRoundConfig(steps=STEPS, threads=1))
        wait(lambda: dock.round_panel.worker is None and not dock.round_panel.running())
        say(dock, f"round {n} ({time.monotonic() - start:.0f} s under load)")
    grab(viewer, "volume_dock_rounds.png")

    out = Path(HOME) / "confocal_3d_centres.csv"
    dock.review_panel.export(out)
    table = pd.read_csv(out)
    print("export columns:", list(table.columns), len(table), "rows", flush=True)
    linked = trackpy.link(pd.concat([table, table.assign(frame=1)]), 3, pos_columns=["z", "y", "x"])
    print("trackpy.link:", linked["particle"].nunique(), "trajectories", flush=True)

    # Close the dock with its X: its layers are put away (saved); open it again: points, accepted boxes and
    # rounds come back from the project, once.
    viewer.window.remove_dock_widget(dock)
    print("layers with the dock closed:", [layer.name for layer in viewer.layers], flush=True)
    _, again = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    say(again, "reopened")
    print("layers reopened:", [layer.name for layer in viewer.layers], flush=True)
    print("points back:", len(viewer.layers["confocal 3D centres"].data), flush=True)
    grab(viewer, "volume_dock_reopened.png")
    viewer.dims.ndisplay = 3
    viewer.scene.camera.angles = (15, 30, 60)
    grab(viewer, "volume_dock_3d_view.png")
    viewer.close()


if __name__ == "__main__":
    main()
