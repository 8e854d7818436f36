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


def test_gui_docks_the_widget_and_opens_the_image_and_its_centres(tmp_path, project_home):
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


def test_gui_names_a_file_no_reader_opens(tmp_path):
    notes = tmp_path / "notes.xyz"
    notes.write_text("not an image")
    with pytest.raises(ParticleDetectError, match="notes.xyz: no napari reader"):
        build_viewer([notes], show=False)


def test_gui_names_a_missing_file_before_starting_napari(tmp_path, capsys):
    assert main(["gui", str(tmp_path / "none.tif")]) == 2
    assert capsys.readouterr().err.strip() == f"particle-detect: error: {tmp_path / 'none.tif'}: no such file"
