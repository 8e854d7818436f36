"""`particle-detect gui`: napari with the dock docked and the files named on the command line open."""

import shutil

import pandas as pd
import pytest
from napari.layers import Image, Points

from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.cli.gui import build_viewer
from napari_particle_detect.shipped import SAMPLE_DATA_DIR


def test_gui_docks_the_widget_and_opens_the_image_and_its_centres(tmp_path, project_home, napari_app_of_its_own):
    # Copies, so the project folder the dock keeps beside an image is not made inside the package.
    image = shutil.copy(SAMPLE_DATA_DIR / "synthetic_stack.tif", tmp_path)
    truth = shutil.copy(SAMPLE_DATA_DIR / "synthetic_stack_truth.csv", tmp_path)
    viewer = build_viewer([image, truth], show=False)
    try:
        [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
        [stack] = [layer for layer in viewer.layers if isinstance(layer, Image)]
        assert stack.name == "synthetic_stack" and stack.data.shape == (4, 256, 256)
        [centres] = [layer for layer in viewer.layers if layer.name == "synthetic_stack_truth"]
        assert isinstance(centres, Points)
        assert len(centres.data) == len(pd.read_csv(truth)) and centres.data.shape[1] == 3  # frame, y, x
        assert widget.image_combo.currentText() == "synthetic_stack"
        assert widget.annotation is not None and widget.annotation.n_frames == 4
    finally:
        viewer.close()


def test_gui_names_a_file_no_reader_opens(tmp_path, napari_app_of_its_own):
    notes = tmp_path / "notes.xyz"
    notes.write_text("not an image")
    with pytest.raises(ParticleDetectError, match="notes.xyz: no napari reader"):
        build_viewer([notes], show=False)


def test_gui_names_a_missing_file_before_starting_napari(tmp_path, capsys):
    assert main(["gui", str(tmp_path / "none.tif")]) == 2
    assert capsys.readouterr().err.strip() == f"particle-detect: error: {tmp_path / 'none.tif'}: file not found"


def test_gui_shows_an_8_bit_image_over_its_own_grey_levels(tmp_path, project_home, napari_app_of_its_own):
    # The real bulk-water frames (grey levels 93-140 of 0-255) opened as a flat grey canvas.
    import numpy as np
    import tifffile

    frames = np.random.default_rng(0).integers(93, 141, (2, 64, 64)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "dim.tif", frames, photometric="minisblack")
    viewer = build_viewer([tmp_path / "dim.tif"], show=False)
    try:
        [layer] = [layer for layer in viewer.layers if isinstance(layer, Image)]
        low, high = layer.contrast_limits
        assert frames[0].min() <= low < high <= frames[0].max()
    finally:
        viewer.close()
