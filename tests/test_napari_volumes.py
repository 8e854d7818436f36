"""The volume dock and the reader on 3D centres, for real in napari."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget, layer_voxel_size
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
    # ...but the image shows its own slice, not the mean through that slab (napari 0.9's default projection).
    image = viewer.layers["vol"]
    viewer.dims.set_point(0, 8 * 2.0)
    assert image.projection_mode == "none"
    assert np.array_equal(np.asarray(image._slice.image.view), sample.image[8])
    inner = score_nd(points.data, sample.centres, 5.0, (2.0, 1.0, 1.0), sample.image.shape, (2.5, 5.0, 5.0))
    assert inner.f1 > 0.8, inner
    assert "centres" in dock.status.text()


def test_reader_opens_3d_centres_as_3d_points(tmp_path):
    path = tmp_path / "c.csv"
    pd.DataFrame({"frame": 0, "z": [1.0, 2.5], "y": [3.0, 4.0], "x": [5.0, 6.0], "score": [0.9, 0.8]}).to_csv(path, index=False)
    (data, kwargs, kind), = get_reader(str(path))(str(path))
    assert kind == "points" and kwargs["ndim"] == 3
    np.testing.assert_allclose(data, [[1.0, 3.0, 5.0], [2.5, 4.0, 6.0]])


def test_the_dock_from_the_plugins_menu_keeps_its_choices_and_reads_the_files_voxel_size(
        make_napari_viewer, qtbot, project_home, tmp_path):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=3)
    path = tmp_path / "conf.tif"  # as synth --volume writes it: z spacing 2 in "pixel" units
    tifffile.imwrite(path, sample.image, imagej=True, resolution=(1.0, 1.0),
                     metadata={"axes": "ZYX", "spacing": 2.0, "unit": "pixel"})
    viewer.open(str(path), plugin="napari")
    assert tuple(viewer.layers["conf"].scale) == (1.0, 1.0, 1.0)  # napari reads no voxel size from it
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    assert dock.viewer is viewer  # napari's PublicOnlyProxy unwrapped: the dock's layers are the viewer's
    assert [s.value() for s in dock.voxel] == [2.0, 1.0, 1.0] and dock.voxel[0].suffix() == " pixel"
    dock.axes_combo.setCurrentIndex(0)
    dock.diameter.setValue(10.0)
    viewer.add_shapes(name="my annotations")  # another layer comes: the choices made stay
    assert dock.axes_combo.currentText().startswith("ZYX") and [s.value() for s in dock.voxel] == [2.0, 1.0, 1.0]
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    assert [s.value() for s in dock.voxel] == [2.0, 1.0, 1.0]  # Detect's own layer did not reset them
    assert "diameter z 5.0, y 10.0, x 10.0" in dock.status.text()  # z from the file's aspect

    viewer.dims.set_point(0, 6.0)
    dock.review_panel.draw_button.click()
    viewer.layers["3D review box"].add_rectangles(np.array([[6, 2, 2], [6, 2, 20], [6, 20, 20], [6, 20, 2]], float))
    dock.review_panel.accept_box_button.click()
    assert len(dock.review.project.regions()) == 1
    assert dock.points is not None and dock.points in viewer.layers and viewer.layers.selection.active is dock.points
    table = pd.read_csv(dock.review_panel.export(tmp_path / "c.csv"))
    assert len(table) == len(dock.points.data) and not {"z_um", "y_um", "x_um"} & set(table.columns)  # not µm

    nm = tmp_path / "nm.tif"
    tifffile.imwrite(nm, sample.image, imagej=True, resolution=(0.01, 0.01),
                     metadata={"axes": "ZYX", "spacing": 200.0, "unit": "nm"})
    layer = viewer.open(str(nm), plugin="napari")[0]
    size, unit = layer_voxel_size(layer)
    assert unit == "µm" and np.allclose(size, (0.2, 0.1, 0.1))


def test_a_typed_voxel_size_is_written_once_the_typing_stops_and_is_never_lost(
        make_napari_viewer, qtbot, project_home, monkeypatch):
    # Each keystroke or arrow step rewrote the project's settings file; now the typing is written once it
    # pauses, and at once when Detect, Export or closing the dock needs it.
    from napari_particle_detect._napari import volume_panel
    from napari_particle_detect.learning.volume_rounds import read_settings

    # A shorter pause (read as the dock is made) waited for: the four changes below still come within it.
    monkeypatch.setattr(volume_panel, "VOXEL_SAVE_DELAY_MS", 150, raising=False)  # absent before
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=5)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    project = dock.review.project
    writes = []
    real = volume_panel.remember_settings
    monkeypatch.setattr(volume_panel, "remember_settings",
                        lambda project_, settings: (writes.append(settings.voxel_size), real(project_, settings)))

    for value in (2.1, 2.2, 2.25, 2.5):  # typed a digit at a time, then arrowed
        dock.voxel[0].setValue(value)
    assert writes == []  # not a write per change
    qtbot.waitUntil(lambda: len(writes) == 1, timeout=5_000)  # once the typing pauses
    qtbot.wait(2 * volume_panel.VOXEL_SAVE_DELAY_MS)
    assert writes == [(2.5, 1.0, 1.0)] and read_settings(project).voxel_size == (2.5, 1.0, 1.0)

    dock.voxel[2].setValue(0.6)
    dock.review_panel.export(project_home / "out.csv")  # Export right after typing reads it
    assert read_settings(project).voxel_size == (2.5, 1.0, 0.6)

    dock.voxel[2].setValue(0.7)
    dock.button.click()  # Detect right after typing: saved before it starts
    assert read_settings(project).voxel_size == (2.5, 1.0, 0.7)
    qtbot.waitUntil(lambda: dock.button.isEnabled(), timeout=60_000)

    dock.voxel[1].setValue(0.9)
    viewer.window.remove_dock_widget(dock)  # closed a moment after typing: still saved
    assert dock.closed and read_settings(project).voxel_size == (2.5, 0.9, 0.7)


def test_the_volume_docks_verdict_offers_no_rounds_table():
    # The dock has no rounds table: a round not used is said to stay in the project, not offered by double-click.
    from napari_particle_detect._napari.round_progress import verdict as round_verdict
    from napari_particle_detect.projects.project import RoundInfo

    in_use = RoundInfo(number=2, origin="fine-tuned", parent=1)
    worse = RoundInfo(number=3, origin="fine-tuned", parent=2, held_out=2, f1=0.7, parent_f1=0.8, improved=False)
    unscored = RoundInfo(number=3, origin="fine-tuned", parent=2, held_out=0)
    for info in (worse, unscored):
        assert "double-click round-003 in the table" in round_verdict(info, in_use)
        said = round_verdict(info, in_use, table=False)
        assert said.endswith("still using round-002 (round-003 stays in the project, not used)") and "table" not in said
    better = RoundInfo(number=3, origin="fine-tuned", parent=2, held_out=2, f1=0.9, parent_f1=0.8, improved=True)
    assert round_verdict(better, better, table=False) == round_verdict(better, better)
    chains = round_verdict(worse, in_use, "bond F1")
    assert chains.startswith("round-003: held-out bond F1 0.700 vs 0.800 for round-002")


def test_the_volume_docks_verdict_line_is_the_images_shown(make_napari_viewer, project_home):
    # Image A's verdict stayed on image B, and B's was never shown; reopened, it lacked "Detect again".
    from napari_particle_detect.projects.project import RoundInfo

    def add_rounds(project, improved):
        for info in (RoundInfo(0, "shipped unet3d"),
                     RoundInfo(0, "fine-tuned", parent=1, held_out=2, f1=0.9 if improved else 0.7, parent_f1=0.8,
                               improved=improved)):
            workspace = project.new_workspace()
            (workspace / "model.pt").write_bytes(b"weights")
            project.commit_round(workspace, info, make_current=improved or info.parent is None)

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 16, 16), np.uint16), name="A")
    dock = VolumeDetectWidget(viewer)
    rounds = dock.round_panel
    add_rounds(dock.review.project, improved=True)
    viewer.add_image(np.ones((8, 16, 16), np.uint16), name="B")
    dock.layer_combo.setCurrentText("B")
    assert rounds.status.text() == ""
    add_rounds(dock.review.project, improved=False)

    dock.layer_combo.setCurrentText("A")
    said = rounds.status.text()
    assert said.startswith("round-002: held-out F1 0.900 vs 0.800") and said.endswith(": in use. Detect again to use it.")
    dock.layer_combo.setCurrentText("B")
    assert rounds.status.text().startswith("round-002: held-out F1 0.700 vs 0.800")
    assert rounds.status.text().endswith("still using round-001 (round-002 stays in the project, not used)")
    dock.layer_combo.setCurrentText("A")
    assert rounds.status.text() == said


def test_a_reopened_volume_project_detects_at_the_diameter_its_review_used(make_napari_viewer, qtbot, project_home):
    # The box got the review's xy diameter rounded to two decimals, and Detect sized z again from it:
    # detecting again after reopening moved the centres the review had been made on.
    from napari_particle_detect.learning.volume_rounds import read_settings

    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=6)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    assert dock.options().diameter is None  # 'auto': estimated
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    project = dock.review.project
    estimated = read_settings(project).diameter
    assert round(estimated[1], 2) != estimated[1]  # more decimals than the box shows
    first = np.array(dock.points.data)
    viewer.window.remove_dock_widget(dock)

    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    assert dock.diameter.value() == round(estimated[1], 2)  # shown rounded...
    assert dock.options().diameter == estimated  # ...detected at exactly the review's size, z included
    dock.button.click()
    qtbot.waitUntil(lambda: dock.button.isEnabled() and "centres" in dock.status.text(), timeout=60_000)
    np.testing.assert_array_equal(np.array(dock.points.data), first)
    assert read_settings(project).diameter == estimated

    dock.diameter.setValue(10.0)  # the user's own size from now on
    assert dock.options().diameter == (10.0,)


def test_an_image_renamed_in_the_layer_list_stays_chosen_under_its_new_name(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=4)
    image = viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
    viewer.add_image(sample.image[::-1].copy(), name="other")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("vol")
    dock.diameter.setValue(10.0)
    image.name = "renamed"
    assert [dock.layer_combo.itemText(i) for i in range(dock.layer_combo.count())] == ["renamed", "other"]
    assert dock.layer() is image
    assert dock.diameter.value() == 10.0  # the same image: the choices made for it stay
