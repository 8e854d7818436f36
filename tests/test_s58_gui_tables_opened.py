"""`particle-detect gui IMAGE TABLE`: a table named as its image is not named as a copy of it, a rods or chains table
brings the dock that works on them, and a table opened alone says it has no image and is fitted to the canvas."""

import numpy as np
import pandas as pd
import tifffile
from helpers import notification_count, notifications_since
from napari.layers import Points

from napari_particle_detect._napari.kinds_widget import KindsWidget
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.cli.gui import build_viewer


def _image(path, size=96):
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 255, (size, size)).astype(np.uint8))
    return path


def test_a_table_named_as_its_image_is_not_named_as_a_copy_of_it(tmp_path, project_home, napari_app_of_its_own):
    # detect writes x.csv beside x.tif: napari named its points 'x [1]', read as a second copy of the image.
    image = _image(tmp_path / "x.tif")
    pd.DataFrame({"y": [20.0, 60.0], "x": [30.0, 70.0]}).to_csv(tmp_path / "x.csv", index=False)
    viewer = build_viewer([image, tmp_path / "x.csv"], show=False)
    try:
        assert [layer.name for layer in viewer.layers] == ["x", "x.csv"]
        assert isinstance(viewer.layers["x.csv"], Points) and len(viewer.layers["x.csv"].data) == 2
        # Nor as the dock names its own centres of the image, which then became 'x centres [1]'.
        [dock] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
        assert dock.annotation.ensure_points_layer().name == "x centres"
    finally:
        viewer.close()


def test_a_chains_table_docks_the_rods_and_chains_dock_on_chains(tmp_path, project_home, napari_app_of_its_own):
    # Only the spheres dock was docked, which neither detects nor reviews chains.
    image = _image(tmp_path / "beads.tif")
    chains = pd.DataFrame({"frame": 0, "y": [20.0, 26.0, 32.0], "x": [20.0, 26.0, 32.0], "chain": 0,
                           "index": [0, 1, 2]})
    chains.to_csv(tmp_path / "beads_chains.csv", index=False)
    viewer = build_viewer([image, tmp_path / "beads_chains.csv"], show=False)
    try:
        [dock] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, KindsWidget)]
        assert dock.kind_combo.currentText() == "chains"
        assert dock.image_combo.currentText() == "beads"
    finally:
        viewer.close()


def test_a_3d_table_docks_the_volume_dock(tmp_path, project_home, napari_app_of_its_own):
    # Its centres opened with the spheres dock alone, which reads a volume's z slices as 2D frames.
    volume = np.random.default_rng(0).integers(0, 255, (8, 32, 32)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "vol.tif", volume, imagej=True, metadata={"axes": "ZYX"})
    pd.DataFrame({"z": [2.0, 5.0], "y": [10.0, 20.0], "x": [12.0, 22.0]}).to_csv(tmp_path / "vol.csv", index=False)
    viewer = build_viewer([tmp_path / "vol.tif", tmp_path / "vol.csv"], show=False)
    try:
        [dock] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, VolumeDetectWidget)]
        assert dock.layer_combo.currentText() == "vol"
    finally:
        viewer.close()


def test_a_table_alone_says_no_image_lies_under_it_and_is_fitted(tmp_path, project_home, napari_app_of_its_own):
    # Opened on a blank canvas without a word, the rings of the points at the edges cut by the canvas's.
    table = tmp_path / "far.csv"
    pd.DataFrame({"y": [30.0, 100.0, 80.0], "x": [40.0, 30.0, 90.0]}).to_csv(table, index=False)
    seen = notification_count()
    viewer = build_viewer([table], show=False)
    try:
        [said] = [line for line in notifications_since(seen) if "far.csv" in line]
        assert "no image" in said and "particle-detect gui IMAGE far.csv" in said
        [points] = viewer.layers
        radius = float(np.max(points.size)) / 2
        # The canvas as drawn (height, width): a canvas never shown gives its size in vispy's order.
        half = np.asarray(viewer.screenshot(canvas_only=True).shape[:2], float) / (2 * viewer.camera.zoom)
        centre = np.asarray(viewer.camera.center[-2:], float)
        assert (points.data[:, -2:] - radius >= centre - half).all()
        assert (points.data[:, -2:] + radius <= centre + half).all()
    finally:
        viewer.close()
