"""Volume tables through the plugin's reader and File > Save: whose each centre is (``source``), how it is drawn
off its slice, napari's own CSVs of (frame, y, x) and (frame, z, y, x) points, and a linked table's track ids."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.writer import write_points


def _read(path):
    (data, kwargs, kind), = get_reader(str(path))(str(path))
    assert kind == "points"
    return data, kwargs


def test_a_volume_tables_sources_survive_reading_and_saving(tmp_path):
    path = tmp_path / "vol_3d_centres.csv"
    table = pd.DataFrame({"frame": 0, "z": [1.0, 2.0, 3.0], "y": [5.0, 6.0, 7.0], "x": [8.0, 9.0, 10.0],
                          "score": [np.nan, 0.9, 0.7], "source": ["added", "accepted", "model"]})
    table.to_csv(path, index=False)
    data, kwargs = _read(path)
    assert list(kwargs["features"]["source"]) == ["added", "accepted", "model"]

    saved = pd.read_csv(write_points(str(tmp_path / "saved.csv"), data, kwargs)[0])
    assert list(saved["source"]) == ["added", "accepted", "model"]
    np.testing.assert_allclose(saved[["z", "y", "x"]], table[["z", "y", "x"]])


def test_someone_elses_volume_table_reads_as_added_centres(tmp_path):
    """No source column: the user's centres (never hidden by a threshold), as a 2D table without one reads."""
    path = tmp_path / "truth.csv"
    pd.DataFrame({"frame": [0, 0], "z": [1.0, 2.0], "y": [5.0, 6.0], "x": [8.0, 9.0]}).to_csv(path, index=False)
    data, kwargs = _read(path)
    assert list(kwargs["features"]["source"]) == ["added", "added"]
    assert list(pd.read_csv(write_points(str(tmp_path / "saved.csv"), data, kwargs)[0])["source"]) == ["added"] * 2


def test_an_export_read_back_is_drawn_as_the_docks_centres(make_napari_viewer, project_home, tmp_path):
    """Off its slice, a centre's ring shrinks in the dock's layer; the same table read back drew it full size, as if
    a particle were centred on the slice shown."""
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((16, 32, 32), np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    table = pd.DataFrame({"frame": 0, "z": [8.0, 10.0], "y": [10.0, 20.0], "x": [10.0, 20.0], "score": 0.9,
                          "source": "model"})
    dock.show_points(image, table, 10.0, 5.0)  # the dock's own layer, its slab five slices thick
    path = tmp_path / "vol_3d_centres.csv"
    table.to_csv(path, index=False)
    [read] = viewer.open(str(path), plugin="napari-particle-detect")
    viewer.dims.set_point(0, 8.0)
    on, off = read._view_size
    assert off < on
    np.testing.assert_allclose(read._view_size / read.size[:2], dock.points._view_size / dock.points.size[:2])


def test_napari_own_csvs_of_frames_and_of_volumes_keep_every_axis(tmp_path):
    """napari's own Points CSV (index, axis-0, ...): (frame, y, x) points kept their frames only as a feature nobody
    draws by (a frame 3 centre shown on every frame); (frame, z, y, x) ones were read as frame, y=z, x=y."""
    from napari_builtins.io._write import napari_write_points

    frames = np.array([[0.0, 10.0, 20.0], [3.0, 30.0, 40.0]])
    data, _ = _read(napari_write_points(str(tmp_path / "stack_points.csv"), frames, {}))
    np.testing.assert_allclose(data, frames)

    volumes = np.array([[0.0, 2.5, 10.0, 20.0], [1.0, 3.0, 30.0, 40.0]])
    data, kwargs = _read(napari_write_points(str(tmp_path / "volume_points.csv"), volumes, {}))
    np.testing.assert_allclose(data, volumes)
    assert "axis-3" not in kwargs["features"].columns


def test_saving_a_linked_volume_table_keeps_its_track_ids_and_measurements(tmp_path):
    """File > Save of a volume's tracks (particle-detect link's frame,z,y,x,particle) read back wrote the centres
    alone, as a 2D layer's save does not."""
    path = tmp_path / "linked.csv"
    linked = pd.DataFrame({"frame": [0, 0, 1, 1], "z": [4.0, 2.0, 4.5, 2.5], "y": [10.0, 20.0, 10.5, 20.5],
                           "x": [30.0, 5.0, 30.0, 5.0], "score": 0.8, "source": "model", "mass": [7.0, 9.0, 7.5, 9.5],
                           "particle": [1, 0, 1, 0]})
    linked.to_csv(path, index=False)
    (data, kwargs, _), (_, _, tracks) = get_reader(str(path))(str(path))
    assert tracks == "tracks"
    saved = pd.read_csv(write_points(str(tmp_path / "saved.csv"), data, kwargs)[0])
    assert list(saved.columns[-2:]) == ["mass", "particle"]
    merged = linked.merge(saved, on=["frame", "z", "y", "x"], suffixes=("", "_saved"))
    assert len(merged) == 4
    assert (merged["particle"] == merged["particle_saved"]).all() and np.allclose(merged["mass"], merged["mass_saved"])
