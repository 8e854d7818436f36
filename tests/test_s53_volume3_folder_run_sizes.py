"""A folder run's volume table read back: each file's centres drawn at the diameter detect found in that file (its
.json records one per input); read as one table with two sizes, every ring fell back to 10 voxels across."""

import json

import pandas as pd

from napari_particle_detect._napari.layers import marker_size
from napari_particle_detect._napari.reader import get_reader


def test_each_file_of_a_folder_runs_volume_table_is_drawn_at_its_own_diameter(tmp_path):
    path = tmp_path / "out.csv"
    rows = {"frame": 0, "z": [4.0, 6.0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": 0.9}
    pd.concat([pd.DataFrame({**rows, "file": "in/big.tif"}),
               pd.DataFrame({**rows, "file": "in/small.tif"})]).to_csv(path, index=False)
    records = [{"file": "in/big.tif", "diameter_voxels_zyx": [7.0, 14.0, 14.0]},
               {"file": "in/small.tif", "diameter_voxels_zyx": [3.5, 7.0, 7.0]}]
    path.with_suffix(".json").write_text(json.dumps({"inputs": records}))

    layers = get_reader(str(path))(str(path))
    sizes = {kwargs["name"]: kwargs["size"] for _, kwargs, _ in layers}
    assert sizes == {"out [big.tif]": marker_size(14.0), "out [small.tif]": marker_size(7.0)}
