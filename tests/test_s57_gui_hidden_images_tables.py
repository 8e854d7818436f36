"""`particle-detect gui FOLDER TABLES`: the tables read over the images opened hidden are hidden with them, and come
back with their image when it is picked in the dock."""

import numpy as np
import pandas as pd
import tifffile
from napari.layers import Image

from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.cli.gui import build_viewer


def _images(folder, sizes):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, size in sizes.items():
        tifffile.imwrite(folder / f"{name}.tif", rng.integers(0, 255, (size, size)).astype(np.uint8))
    return folder


def _pick(viewer, name):
    [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
    widget.image_combo.setCurrentIndex(widget.image_combo.findText(name))
    widget.show_chosen()  # what the user's pick in the Image box runs


def test_a_hidden_images_own_table_is_hidden_and_comes_back_with_it(tmp_path, project_home, napari_app_of_its_own):
    # The 80 px image's centres stayed shown over the 64 px image the dock worked on, running past its edge.
    folder = _images(tmp_path / "res", {"a": 64, "b": 80})
    pd.DataFrame({"y": [10.0, 70.0], "x": [10.0, 75.0]}).to_csv(folder / "b.csv", index=False)
    pd.DataFrame({"y": [20.0], "x": [30.0]}).to_csv(folder / "a.csv", index=False)
    viewer = build_viewer([folder, folder / "a.csv", folder / "b.csv"], show=False)
    try:
        a, b = (viewer.layers[name] for name in ("a", "b"))
        [a_table] = [layer for layer in viewer.layers if not isinstance(layer, Image) and len(layer.data) == 1]
        [b_table] = [layer for layer in viewer.layers if not isinstance(layer, Image) and len(layer.data) == 2]
        assert (a.visible, a_table.visible) == (True, True)
        assert (b.visible, b_table.visible) == (False, False)
        _pick(viewer, "b")
        assert (b.visible, b_table.visible, a_table.visible) == (True, True, False)
        _pick(viewer, "a")
        assert (a_table.visible, b_table.visible) == (True, False)
    finally:
        viewer.close()


def test_a_folder_runs_table_hides_the_part_of_each_hidden_image(tmp_path, project_home, napari_app_of_its_own):
    folder = _images(tmp_path / "res", {"a": 64, "b": 80})
    table = tmp_path / "centres.csv"
    pd.DataFrame({"file": ["a.tif", "b.tif", "b.tif"], "y": [20.0, 10.0, 70.0], "x": [30.0, 10.0, 75.0]}).to_csv(
        table, index=False)
    viewer = build_viewer([folder, table], show=False)
    try:
        a_part, b_part = viewer.layers["centres [a.tif]"], viewer.layers["centres [b.tif]"]
        assert (a_part.visible, b_part.visible) == (True, False)
        _pick(viewer, "b")
        assert (a_part.visible, b_part.visible) == (False, True)
    finally:
        viewer.close()
