"""Volume centres read back are drawn at the size they were detected at, as the Volume dock draws them: the rings of
the same centres were 10 voxels across read back whatever the particles' diameter."""

import json

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect._napari.layers import marker_size
from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import VolumeSettings, remember_settings

TABLE = pd.DataFrame({"frame": 0, "z": [4.0, 6.0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9,
                      "source": "model"})


def test_a_detect_tables_centres_are_drawn_at_the_diameter_its_json_records(tmp_path):
    path = tmp_path / "centres.csv"
    TABLE.to_csv(path, index=False)
    record = {"file": str(tmp_path / "vol.tif"), "diameter_voxels_zyx": [3.0, 6.5, 6.5]}
    path.with_suffix(".json").write_text(json.dumps({"inputs": [record]}))
    (_, kwargs, _), = get_reader(str(path))(str(path))
    assert kwargs["size"] == marker_size(6.5)


def test_a_docks_export_read_back_over_its_image_is_drawn_as_the_dock_draws_it(make_napari_viewer, project_home,
                                                                             tmp_path):
    image_path = tmp_path / "vol.tif"
    tifffile.imwrite(image_path, np.random.default_rng(1).integers(0, 255, (12, 40, 40), dtype=np.uint8))
    viewer = make_napari_viewer()
    [image] = viewer.open(str(image_path), plugin="napari")
    dock = VolumeDetectWidget(viewer)
    remember_settings(dock.review.project, VolumeSettings((3.0, 6.5, 6.5), None, (12, 40, 40)))
    dock.review.save_edits(0, TABLE.assign(source="added", score=np.nan))
    dock.reload_points()
    exported = dock.review_panel.export(tmp_path / "vol_3d_centres.csv")

    [read] = viewer.open(str(exported), plugin="napari-particle-detect")
    np.testing.assert_allclose(read.size, dock.points.size)
    assert read.size[0] == marker_size(6.5)


def test_a_table_with_nothing_recording_its_size_keeps_the_default(tmp_path):
    path = tmp_path / "truth.csv"
    TABLE.to_csv(path, index=False)
    (_, kwargs, _), = get_reader(str(path))(str(path))
    assert kwargs["size"] == marker_size(10.0)
