"""The volume dock and the reader on 3D centres, for real in napari."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_volume_dock_detects_3d_points_drawn_on_the_slices_they_cross(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=4)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText().startswith("ZYX")  # a 3D layer: the choice is offered, volume first
    assert [s.value() for s in dock.voxel] == [2.0, 1.0, 1.0]  # from the layer's scale
    dock.diameter.setValue(10.0)
    with qtbot.waitSignal(dock.button.clicked, timeout=1000):
        dock.button.click()
    qtbot.waitUntil(lambda: "vol 3D centres" in viewer.layers, timeout=60_000)
    points = viewer.layers["vol 3D centres"]
    assert points.ndim == 3 and tuple(points.scale) == (2.0, 1.0, 1.0)
    assert points.projection_mode == "rescale_spherical" and viewer.dims.thickness[0] > 5  # a diameter thick
    inner = score_nd(points.data, sample.centres, 5.0, (2.0, 1.0, 1.0), sample.image.shape, (2.5, 5.0, 5.0))
    assert inner.f1 > 0.8, inner
    assert "centres" in dock.status.text()


def test_reader_opens_3d_centres_as_3d_points(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"frame": 0, "z": [1.0, 2.5], "y": [3.0, 4.0], "x": [5.0, 6.0], "score": [0.9, 0.8]}).to_csv(path, index=False)
    (data, kwargs, kind), = get_reader(str(path))(str(path))
    assert kind == "points" and kwargs["ndim"] == 3
    np.testing.assert_allclose(data, [[1.0, 3.0, 5.0], [2.5, 4.0, 6.0]])
