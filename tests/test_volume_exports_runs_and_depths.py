"""Volume paths left by the audits: the dock's export places its micrometres where napari draws a volume set
at a translate (a crop at its stage position), a folder run of volumes writes the run record 2D folder runs
write, and an old volume project refuses a volume of another depth before it records that volume as its own."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import notification_count, notifications_since
from napari_particle_detect.cli.main import main
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.learning.volume_rounds import VolumeSettings, open_volume_project, remember_settings
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SMALL = VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=10.0, z_step=2.0)


def test_the_volume_export_puts_micrometres_where_napari_draws_a_translated_volume(make_napari_viewer, project_home,
                                                                                    tmp_path):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((6, 20, 20)).astype(np.float32), name="crop", scale=(0.4, 0.2, 0.2),
                     translate=(10.0, 50.0, 30.0), units="um")
    dock = VolumeDetectWidget(viewer)
    project = dock.review.project
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), (0.4, 0.2, 0.2), (6, 20, 20)))
    dock.review.save_edits(0, pd.DataFrame({"frame": 0, "z": [1.0, 4.0], "y": [3.0, 15.0], "x": [5.0, 12.0],
                                            "source": "added"}))
    dock.reload_points()
    points = viewer.layers["crop 3D centres"]
    drawn = np.array(sorted(tuple(points.data_to_world(p)) for p in points.data))

    exported = pd.read_csv(dock.review_panel.export(tmp_path / "crop.csv"))

    # They were 0.4, 0.6, 1.0 µm: the crop as if at the origin, not where it is drawn.
    np.testing.assert_allclose(exported[["z_um", "y_um", "x_um"]].to_numpy(), drawn, atol=1e-3)
    np.testing.assert_allclose(drawn[0], (10.4, 50.6, 31.0))


def test_a_folder_run_of_volumes_writes_the_run_record(tmp_path, capsys, project_home):
    tifffile.imwrite(tmp_path / "a.tif", synthesize_volume(SMALL, seed=1).image, imagej=True,
                     metadata={"axes": "ZYX"})
    (tmp_path / "b.tif").write_bytes(b"II*\x00garbage" * 10)  # unreadable
    tifffile.imwrite(tmp_path / "c.tif", synthesize_volume(SMALL, seed=3).image, imagej=True,
                     metadata={"axes": "ZYX"})
    out = tmp_path / "out"

    code = main(["-q", "detect", *(str(tmp_path / f"{n}.tif") for n in "abc"), "-o", f"{out}/", "--device", "cpu",
                 "--diameter", "10", "--threshold", "0.5"])

    assert code == 1 and f"particle-detect: failed: {tmp_path / 'b.tif'}: cannot read image" in capsys.readouterr().err
    record = json.loads((out / RUN_RECORD).read_text())
    # A bad file is reported at the end and the others go on, as in a 2D folder run (README, Many files).
    assert [(e["file"], e.get("output")) for e in record["done"]] == [(str(tmp_path / "a.tif"), "a.csv"),
                                                                      (str(tmp_path / "c.tif"), "c.csv")]
    assert [e["file"] for e in record["failed"]] == [str(tmp_path / "b.tif")]
    assert "cannot read image" in record["failed"][0]["reason"]
    assert record["left"] == []
    assert record["options"]["threshold"] == 0.5 and record["options"]["diameter"] == [10.0]
    assert record["stopped"] is None and not record["interrupted"]


def test_an_old_volume_project_refuses_a_volume_of_another_depth(make_napari_viewer, project_home, tmp_path):
    path = tmp_path / "vol.tif"
    rng = np.random.default_rng(0)
    first = rng.random((12, 24, 24)).astype(np.float32)
    project = open_volume_project(path, first)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, (12, 24, 24)))
    state_path = project.folder / "state.json"
    # As projects were saved before they recorded their volume's depth and fingerprint.
    state = json.loads(state_path.read_text()) | {"frame_shape": [24, 24], "fingerprint": None}
    state_path.write_text(json.dumps(state))
    tifffile.imwrite(path, rng.random((16, 24, 24)).astype(np.float32), imagej=True, metadata={"axes": "ZYX"})
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari")
    start = notification_count()

    dock = VolumeDetectWidget(viewer)

    assert dock.review is None  # it opened, and its boxes would lie on other slices
    assert f"{project.folder}: 'vol.tif' has 16 z-slices per volume, this project was made for 12" in "\n".join(
        notifications_since(start))
    assert json.loads(state_path.read_text())["fingerprint"] is None  # not the other volume's


def test_reader_puts_a_translated_export_back_where_it_was_drawn(make_napari_viewer, project_home, tmp_path):
    from napari_particle_detect._napari.reader import read_centre_files
    from napari_particle_detect.files.tables import table_voxel_size
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((6, 20, 20)).astype(np.float32), name="crop", scale=(0.4, 0.2, 0.2),
                     translate=(10.0, 50.0, 30.0), units="um")
    dock = VolumeDetectWidget(viewer)
    remember_settings(dock.review.project, VolumeSettings((5.0, 10.0, 10.0), (0.4, 0.2, 0.2), (6, 20, 20)))
    dock.review.save_edits(0, pd.DataFrame({"frame": 0, "z": [1.0, 4.0], "y": [3.0, 15.0], "x": [5.0, 12.0],
                                            "source": "added"}))
    dock.reload_points()
    drawn = np.array(sorted(tuple(viewer.layers["crop 3D centres"].data_to_world(p))
                            for p in viewer.layers["crop 3D centres"].data))
    path = dock.review_panel.export(tmp_path / "crop_3d_centres.csv")
    assert table_voxel_size(pd.read_csv(path)) == (0.4, 0.2, 0.2)
    [(data, kwargs, _)] = read_centre_files(str(path))[:1]
    viewer.add_points(data, **kwargs)
    read = viewer.layers[-1]
    np.testing.assert_allclose(np.array(sorted(tuple(read.data_to_world(p)) for p in read.data)), drawn, atol=1e-3)


@pytest.mark.parametrize("rows", [[(3, 5, 7)], [(3, 5, 7), (3, 15, 27)]], ids=["one centre", "one slice"])
def test_a_translated_export_of_one_centre_or_one_slice_reads_back_its_voxel_size_and_origin(tmp_path, rows):
    from napari_particle_detect.files.tables import table_voxel_placement
    from napari_particle_detect.projects.volume_review import export_volume_table

    table = pd.DataFrame([(0, *r) for r in rows], columns=["frame", "z", "y", "x"]).assign(source="added")
    path = export_volume_table(table, tmp_path / "crop.csv", (2.0, 0.5, 0.5), origin=(10.0, 100.0, 200.0))
    # Before, a z size of 6 (one slice) or of 8.7 (one centre): an origin cannot be told from a size on one position.
    assert table_voxel_placement(pd.read_csv(path)) == ((2.0, 0.5, 0.5), (20.0, 50.0, 100.0))


def test_a_translated_table_that_cannot_tell_its_origin_gives_no_voxel_size(tmp_path):
    from napari_particle_detect.files.tables import table_voxel_placement

    # z on one slice, y and x at an origin: without the export's origin columns, z's size cannot be told.
    table = pd.DataFrame({"z": [3.0, 3.0], "y": [5.0, 15.0], "x": [7.0, 27.0]})
    table = table.assign(z_um=(table.z + 10) * 2.0, y_um=(table.y + 100) * 0.5, x_um=(table.x + 200) * 0.5)
    assert table_voxel_placement(table) is None
    at_origin = table.assign(z_um=table.z * 2.0, y_um=table.y * 0.5, x_um=table.x * 0.5)  # detect's: origin 0
    assert table_voxel_placement(at_origin) == ((2.0, 0.5, 0.5), (0.0, 0.0, 0.0))
