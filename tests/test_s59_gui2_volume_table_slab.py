"""A volume table read into a viewer draws each ring on every slice its sphere crosses, as the Volume dock draws its
centres: napari keeps a point on its slab only, and without one a ring showed on its centre slice alone. The images
show their own slice, not the mean through that slab, whether opened before the table or after it; the slab goes with the table."""

import numpy as np
import pandas as pd

PLUGIN = "napari-particle-detect"


def test_a_volume_tables_rings_show_between_their_centre_slices(make_napari_viewer, tmp_path):
    table = tmp_path / "vol_3d_centres.csv"
    pd.DataFrame({"z": [10.0, 12.0], "y": [20.0, 40.0], "x": [20.0, 40.0], "score": [0.9, 0.8]}).to_csv(table,
                                                                                                       index=False)
    viewer = make_napari_viewer()
    before = viewer.add_image(np.zeros((24, 64, 64), np.uint8), name="vol")
    points, = viewer.open(table, plugin=PLUGIN)
    viewer.dims.set_point(0, 11.0)
    assert len(points._view_data) == 2  # each a slice off its centre, well inside its 10 voxel sphere
    assert before.projection_mode == "none"
    after = viewer.add_image(np.zeros((24, 64, 64), np.uint8), name="later")
    assert after.projection_mode == "none"  # not the mean of the slab's slices
    viewer.layers.remove(points)
    assert viewer.dims.thickness[0] == 0  # no slab left to average a movie opened next over ten frames


def test_the_slab_is_the_depth_detect_recorded_else_the_xy_diameter_in_the_tables_lengths(tmp_path):
    import json

    from napari_particle_detect._napari.layers import SPHERE_DEPTH_KEY
    from napari_particle_detect._napari.reader import get_reader

    recorded = tmp_path / "centres.csv"
    pd.DataFrame({"z": [4.0], "y": [10.0], "x": [12.0], "score": [0.9]}).to_csv(recorded, index=False)
    record = {"file": str(tmp_path / "vol.tif"), "diameter_voxels_zyx": [3.0, 6.5, 6.5]}
    recorded.with_suffix(".json").write_text(json.dumps({"inputs": [record]}))
    (_, kwargs, _), = get_reader(str(recorded))(str(recorded))
    assert kwargs["metadata"][SPHERE_DEPTH_KEY] == 3.0
    # Voxels twice as deep as wide: a sphere 10 voxels across in xy is 5 voxels deep.
    placed = tmp_path / "placed.csv"
    pd.DataFrame({"z": [4.0], "y": [10.0], "x": [12.0], "score": [0.9], "z_um": [8.0], "y_um": [10.0],
                  "x_um": [12.0]}).to_csv(placed, index=False)
    (_, kwargs, _), = get_reader(str(placed))(str(placed))
    assert kwargs["scale"][-3] == 2.0 and kwargs["metadata"][SPHERE_DEPTH_KEY] == 5.0
