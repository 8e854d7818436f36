"""The last accepted 3D box un-accepted (Undo) left an empty 'accepted 3D boxes' layer in the layer list, read as boxes
still accepted; closing the dock then named it among the layers put away that 'come back when the dock is opened
again', and it never came back."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect._napari.volume_review_panel import ACCEPTED_LAYER

from helpers import notification_count, notifications_since

BOX = (2.0, 2.0, 20.0, 20.0)  # y0, x0, y1, x1


def _dock(viewer) -> VolumeDetectWidget:
    viewer.add_image(np.zeros((10, 32, 32), np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    dock.review.project.save_frame(0, pd.DataFrame({"frame": 0, "z": [2.0, 4.0], "y": [6.0, 16.0],
                                                    "x": [6.0, 16.0], "score": 0.9, "source": "model"}))
    dock.reload_points()
    dock.review_panel.set_z_range(1, 5)
    return dock


def test_undoing_the_last_box_takes_its_layer_away(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    panel = dock.review_panel
    panel.accept_box(BOX)
    assert ACCEPTED_LAYER in viewer.layers

    panel.undo()

    assert ACCEPTED_LAYER not in viewer.layers
    assert [layer.name for layer in viewer.layers] == ["vol", "vol 3D centres"]  # the image stays chosen
    assert dock.layer() is viewer.layers["vol"] and dock.review is not None
    seen = notification_count()
    dock.shut_down(put_layers_away=True)  # the dock's X
    [said] = notifications_since(seen)
    assert ACCEPTED_LAYER not in said and "'vol 3D centres'" in said


def test_a_box_accepted_again_is_outlined_again(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    panel = _dock(viewer).review_panel
    panel.accept_box(BOX)
    panel.undo()

    panel.accept_box(BOX)

    assert len(viewer.layers[ACCEPTED_LAYER].data) == 5  # slices 1 to 5
