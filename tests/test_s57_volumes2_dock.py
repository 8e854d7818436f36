"""The Volume dock with two volumes open, reopened, and a round running while another image is shown."""

from __future__ import annotations

from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.learning.volume_rounds import read_settings
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SMALL = VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0)
DOCK = ("napari-particle-detect", "Volume detection (3D)")


def pick(dock, name: str) -> None:
    """Choose ``name`` in the dock's image list as a user does (napari's 'activated', not only the current text)."""
    index = dock.layer_combo.findText(name)
    dock.layer_combo.setCurrentIndex(index)
    dock.layer_combo.activated.emit(index)


def detected(dock, qtbot) -> None:
    dock.button.click()
    qtbot.waitUntil(lambda: dock.worker is None and dock.button.isEnabled() and "centres;" in dock.status.text(),
                    timeout=60_000)


def test_picking_a_volume_hides_the_one_opened_over_it(make_napari_viewer, project_home):
    # Picked (and detected), 'a' stayed under 'b', opened after it: neither the volume nor its centres could be seen.
    viewer = make_napari_viewer()
    a = viewer.add_image(synthesize_volume(SMALL, seed=1).image, name="a")
    b = viewer.add_image(synthesize_volume(SMALL, seed=2).image, name="b")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    pick(dock, "a")
    assert a.visible and not b.visible
    pick(dock, "b")
    assert b.visible  # lying over 'a': nothing to hide


def test_a_voxel_size_given_after_reopening_sizes_z_anew(make_napari_viewer, qtbot, project_home):
    # Reopened, the box held the review's estimate and Detect reused its z (sized without a voxel size) with a
    # voxel size typed since: the calibrated volume was detected at the old depth, said as 'detected before'.
    viewer = make_napari_viewer()
    viewer.add_image(synthesize_volume(SMALL, seed=6).image, name="vol")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    detected(dock, qtbot)
    estimated = read_settings(dock.review.project).diameter
    viewer.window.remove_dock_widget(dock)

    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    assert dock.options().diameter == estimated  # untouched: the review's own sizes, z included
    for spin, value in zip(dock.voxel, (4.0, 1.0, 1.0)):
        spin.setValue(value)
    assert dock.options().diameter == (estimated[1],)
    detected(dock, qtbot)
    z, y, _ = read_settings(dock.review.project).diameter
    assert (y, z) == (estimated[1], estimated[1] / 4.0)
    assert "(xy as this image was detected before, z from voxel size)" in dock.status.text(), dock.status.text()


def test_a_round_running_for_another_image_is_said_as_its(make_napari_viewer, qtbot, project_home):
    # Its progress under another image read as a round of that one ('training: step 5 of 10'), Cancel beside it.
    viewer = make_napari_viewer()
    viewer.add_image(synthesize_volume(SMALL, seed=6).image, name="vol")
    viewer.add_image(synthesize_volume(SMALL, seed=7).image, name="other")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    pick(dock, "vol")
    detected(dock, qtbot)
    dock.review_panel.accept_volume()
    rounds = dock.round_panel
    rounds.run(VolumeRoundConfig(steps=10, batch_size=1, crop=16, threads=1))
    assert rounds.running()
    pick(dock, "other")
    assert rounds.status.text().startswith("vol: "), rounds.status.text()
    qtbot.waitUntil(lambda: rounds.worker is None, timeout=60_000)
    assert rounds.status.text().startswith("vol: round-002"), rounds.status.text()
    pick(dock, "vol")
    assert not rounds.status.text().startswith("vol: ")  # its own image shown again: no name needed


def test_a_detection_running_for_another_image_is_said_as_its(make_napari_viewer, qtbot, project_home):
    # The line under Detect stays while another image is chosen: 'detecting in 1 volume(s)…' read as that one's.
    viewer = make_napari_viewer()
    viewer.add_image(synthesize_volume(SMALL, seed=6).image, name="vol")
    viewer.add_image(synthesize_volume(SMALL, seed=7).image, name="other")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    pick(dock, "vol")
    dock.button.click()
    pick(dock, "other")
    assert "detecting in 1 volume of 'vol'" in dock.status.text(), dock.status.text()
    qtbot.waitUntil(lambda: dock.worker is None, timeout=60_000)
    assert dock.status.text().startswith("vol: "), dock.status.text()
