"""A new user's first minutes with `particle-detect gui`: a missing file, a folder, several images, a centre CSV
named before its image. (The viewer is gui's own, built in an application of its own: napari_app_of_its_own.)"""

import numpy as np
import pandas as pd
import tifffile
from napari.layers import Image, Points

from napari_particle_detect.cli.gui import build_viewer
from napari_particle_detect.cli.main import main


def test_gui_says_file_not_found_as_detect_does(tmp_path, capsys):
    missing = tmp_path / "none.tif"
    assert main(["gui", str(missing)]) == 2
    gui_error = capsys.readouterr().err.strip()
    assert main(["detect", str(missing), "-o", str(tmp_path / "out.csv")]) == 2
    assert gui_error == capsys.readouterr().err.strip() == f"particle-detect: error: {missing}: file not found"


def _frames(path, seed):
    frames = np.random.default_rng(seed).integers(0, 255, (2, 32, 32)).astype(np.uint8)
    tifffile.imwrite(path, frames, photometric="minisblack")


def test_gui_opens_a_folders_images_one_layer_each(tmp_path, project_home, napari_app_of_its_own):
    # napari's reader stacked the folder into one layer, and the centre CSV in it failed the whole folder.
    folder = tmp_path / "movie"
    folder.mkdir()
    _frames(folder / "a.tif", 0)
    _frames(folder / "b.tif", 1)
    pd.DataFrame({"frame": [0], "y": [5.0], "x": [5.0]}).to_csv(folder / "a_centres.csv", index=False)
    viewer = build_viewer([folder], show=False)
    try:
        assert [(layer.name, type(layer)) for layer in viewer.layers] == [("a", Image), ("b", Image)]
    finally:
        viewer.close()


def test_gui_draws_centres_named_first_over_their_image(tmp_path, project_home, napari_app_of_its_own):
    # Named before the image, the centres were a layer under it, hidden by its pixels.
    _frames(tmp_path / "a.tif", 0)
    pd.DataFrame({"frame": [0, 1], "y": [5.0, 6.0], "x": [5.0, 7.0]}).to_csv(tmp_path / "a_centres.csv", index=False)
    viewer = build_viewer([tmp_path / "a_centres.csv", tmp_path / "a.tif"], show=False)
    try:
        assert [type(layer) for layer in viewer.layers] == [Image, Points]
    finally:
        viewer.close()


def test_gui_shows_the_image_the_dock_picks(tmp_path, project_home, napari_app_of_its_own):
    # Several images were drawn one over another: the dock's (the first) lay under the last one named.
    from napari_particle_detect._napari.widget import ParticleDetectWidget

    _frames(tmp_path / "a.tif", 0)
    _frames(tmp_path / "b.tif", 1)
    viewer = build_viewer([tmp_path / "a.tif", tmp_path / "b.tif"], show=False)
    try:
        [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
        assert widget.image_combo.currentText() == "a"
        assert [(layer.name, layer.visible) for layer in viewer.layers] == [("a", True), ("b", False)]
        assert viewer.layers.selection.active.name == "a"
    finally:
        viewer.close()
