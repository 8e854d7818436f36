"""A volume table's ring size and slab depth come from one reading of detect's .json beside it: asked axis by axis,
the reader read it twice for each table (each part of a folder run's table too)."""

import json

import pandas as pd


def test_a_volume_tables_sizes_are_read_from_its_json_once(tmp_path, monkeypatch):
    from napari_particle_detect._napari import reader
    from napari_particle_detect._napari.layers import SPHERE_DEPTH_KEY, marker_size
    from napari_particle_detect.files import file_detection

    table = pd.DataFrame({"z": [4.0], "y": [10.0], "x": [12.0], "score": [0.9]})
    path = tmp_path / "centres.csv"
    table.to_csv(path, index=False)
    record = {"file": str(tmp_path / "vol.tif"), "diameter_voxels_zyx": [3.0, 6.5, 6.5]}
    path.with_suffix(".json").write_text(json.dumps({"inputs": [record]}))
    reads = []
    real = file_detection.read_metadata
    monkeypatch.setattr(file_detection, "read_metadata", lambda output: reads.append(output) or real(output))
    _, kwargs, _ = reader.volume_centres_layer_data(path, table)
    assert len(reads) == 1
    assert kwargs["metadata"][SPHERE_DEPTH_KEY] == 3.0 and kwargs["size"] == marker_size(6.5)
