"""The Volume dock on a pyramid (multiscale) image, as OME-Zarr readers open one: numpy reads napari's pyramid as its
smallest level and indexing it picks a level, so the dock could not even open while a 3D pyramid was in the viewer
(a TypeError from data[None])."""

import numpy as np

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def _detected(viewer, qtbot, name: str) -> np.ndarray:
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText(name)
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: f"{name} 3D centres" in viewer.layers and dock.worker is None, timeout=60_000)
    return viewer.layers[f"{name} 3D centres"].data


def test_the_volume_dock_opens_on_a_pyramid_and_detects_it_like_the_same_volume(make_napari_viewer, qtbot,
                                                                                 project_home):
    volume = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0), seed=4).image
    viewer = make_napari_viewer()
    viewer.add_image(volume, name="flat")
    flat = _detected(viewer, qtbot, "flat").copy()
    viewer.layers.clear()
    viewer.add_image([volume, volume[:, ::2, ::2]], name="pyramid", multiscale=True)
    pyramid = _detected(viewer, qtbot, "pyramid")
    assert len(flat) > 3
    np.testing.assert_allclose(pyramid, flat)
