"""Long layer names (napari names a layer after its file; 150 characters is common in microscopy exports): the docks'
image lists keep the docks their width, the whole name in a tooltip, and an unsaved image's volume project stays apart
from its Particle detection project."""

import numpy as np
import pytest
from qtpy.QtCore import Qt

from helpers import make_widget, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

LONG = ("2024-03-11_confocal_sample-A_objective63x_NA1.4_zoom2.0_pinhole1AU_laser488nm_power5pct_gain650_offset0_"
        "series0042_position07_channel01_deconvolved_final_v3")
# Wider than this, a dock beside napari's layer list and canvas pushes a laptop's window past its screen.
DOCK_WIDTH_PX = 700


def test_the_spheres_docks_lists_and_note_keep_its_width_with_a_long_name(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name=LONG)
    viewer.add_image(np.zeros((32, 32, 3), np.uint8), name=f"{LONG}_rgb", rgb=True)
    widget = make_widget(viewer, None)
    pick(widget, f"{LONG}_rgb (colour)")  # its note names it, and its views are offered

    assert widget.image_combo.sizeHint().width() < DOCK_WIDTH_PX / 2
    assert widget._scroll.widget().minimumSizeHint().width() < DOCK_WIDTH_PX
    assert widget.image_combo.whole_tip().endswith(f"{LONG}_rgb (colour)")  # whole, where it is shown elided
    assert widget.image_combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == LONG


def test_the_volume_docks_image_list_keeps_its_width_with_a_long_name(make_napari_viewer):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(4, 48), name=LONG)
    dock = VolumeDetectWidget(viewer)

    assert dock.layer_combo.sizeHint().width() < DOCK_WIDTH_PX / 2
    assert dock.minimumSizeHint().width() < DOCK_WIDTH_PX
    assert dock.layer_combo.whole_tip().endswith(LONG) and dock.layer() is viewer.layers[LONG]


def test_a_long_named_images_volume_project_is_not_its_spheres_project(make_napari_viewer):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = make_napari_viewer()
    viewer.add_image(small_stack(4, 48), name=LONG)
    widget = make_widget(viewer, None)
    widget.annotation.ensure_points_layer().add([[0, 10, 10], [1, 20, 30]])  # the spheres project holds its frames
    widget.annotation.flush()

    dock = VolumeDetectWidget(viewer)  # the same image, read as one volume

    assert dock.review is not None, dock.status.text()  # refused: "this project was made for an image of 4 frames"
    assert dock.review.project.folder != widget.annotation.project.folder
    assert len(widget.annotation.project.load_all()) == 2


def test_a_volume_project_named_whole_before_stays_where_its_work_is(make_napari_viewer):
    """Names of 93-99 characters had a volume folder of their own, the suffix only partly cut: their work stays found."""
    from napari_particle_detect._napari.volume_panel import project_folder_by_name
    from napari_particle_detect.projects.project import project_folder_for_data

    viewer = make_napari_viewer()
    pixels = small_stack(4, 48)
    for length in (40, 95, 99, 120):
        name = "v" * length
        layer = viewer.add_image(pixels, name=name)
        folder = project_folder_by_name(layer)
        assert folder != project_folder_for_data(name, pixels), length
        if length < 100:
            assert folder == project_folder_for_data(f"{name}.volumes", pixels), length
        viewer.layers.remove(layer)
