"""The volume dock as a user upgrading and moving between images finds it: a split channel's work kept where an
earlier version kept it, the 3D box's z range of the image shown, and a volume among File > Open Sample."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect._napari.annotation import project_name
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import open_volume_project
from napari_particle_detect.projects.project import project_folder_for_data
from napari_particle_detect.projects.volume_review import VolumeReview


def test_a_split_channels_project_kept_by_an_earlier_version_under_its_layer_name_comes_back(
        make_napari_viewer, project_home, tmp_path):
    # An earlier version kept a channel opened with channel_axis under the projects home, named after the layer
    # ('conf_1_.volumes-<hash>'); this one keeps it beside the file, by file and channel, and found nothing there.
    rng = np.random.default_rng(2)
    path = tmp_path / "conf.tif"
    tifffile.imwrite(path, rng.integers(0, 255, (12, 2, 40, 40), dtype=np.uint8), imagej=True,
                     metadata={"axes": "ZCYX"})
    viewer = make_napari_viewer()
    channel = viewer.open(str(path), plugin="napari", channel_axis=1)[1]
    volumes = np.asarray(channel.data)[None]
    earlier = project_folder_for_data(f"{project_name(channel)}.volumes", np.asarray(channel.data))  # as it named it
    assert project_home in earlier.parents  # the projects home, not beside the file
    made_before = VolumeReview(open_volume_project(earlier, volumes), tuple(volumes.shape[1:]))
    made_before.save_edits(0, pd.DataFrame({"frame": 0, "z": [3.0, 6.0], "y": [10.0, 30.0], "x": [10.0, 30.0],
                                            "score": np.nan, "source": "added"}))

    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText(channel.name)
    assert dock.review.project.folder == earlier
    assert dock.points is not None and len(dock.points.data) == 2  # the centres accepted before the upgrade
    assert not list(tmp_path.glob("conf*.volumes.particle-detect"))  # no second, empty project beside the file


def test_the_box_z_range_starts_afresh_within_the_slices_of_the_image_picked_next(make_napari_viewer, project_home):
    # 8-16 set on a 24-slice volume stayed when a 10-slice one was picked: Draw box kept it, past its last slice.
    viewer = make_napari_viewer()
    rng = np.random.default_rng(3)
    viewer.add_image(rng.random((24, 32, 32)).astype(np.float32), name="deep")
    viewer.add_image(rng.random((10, 32, 32)).astype(np.float32), name="shallow")
    dock = VolumeDetectWidget(viewer)
    panel = dock.review_panel
    dock.layer_combo.setCurrentText("deep")
    panel.set_z_range(8, 16)

    dock.layer_combo.setCurrentText("shallow")
    assert dock.review is not None and dock.review.shape[0] == 10
    panel.draw_box()
    z0, z1 = panel.z_from.value(), panel.z_to.value()
    assert (z0, z1) == tuple(round(v) for v in panel.default_z_range())  # proposed for this image's slice shown
    assert 0 <= z0 < z1 <= 9
    assert panel.z_to.maximum() == 9  # nor can one be typed past its last slice


def test_the_volume_sample_opens_as_a_zyx_image_the_volume_dock_lists_and_opens(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "volume")
    [image] = viewer.layers
    assert image.ndim == 3 and image.data.shape[0] >= 16 and tuple(image.scale) == (2.0, 1.0, 1.0)
    assert viewer.dims.axis_labels == ("z", "y", "x")
    dock = VolumeDetectWidget(viewer)
    assert [dock.layer_combo.itemText(i) for i in range(dock.layer_combo.count())] == [image.name]
    assert dock.axes_combo.currentText().startswith("ZYX") and dock.review is not None
    assert [s.value() for s in dock.voxel] == [2.0, 1.0, 1.0]  # the z step sizes spheres along z
