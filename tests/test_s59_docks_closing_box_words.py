"""A dock closed with its X named its review box wrongly: renamed by the user ("my box"), it was listed among the
layers that come back, and it did not (the dock removes it, no project keeps a box); emptied by accepting its box (the
spheres and Volume docks), it was said "not kept" as if the acceptance were lost. The words follow the box itself."""

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from helpers import answer_questions, notification_count, notifications_since
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def closing_words(widget) -> str:
    """What ``widget`` says as its X closes it (ClosingDock hears the X as this call)."""
    seen = notification_count()
    widget._shut_down_saving(put_layers_away=True)
    said = [m for m in notifications_since(seen) if "dock was closed" in m]
    assert len(said) == 1, said
    return said[0]


def image_viewer() -> ViewerModel:
    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="img")
    return viewer


def test_a_renamed_review_box_is_said_not_kept(qtbot):
    from napari_particle_detect._napari.kinds_widget import KindsWidget

    viewer = image_viewer()
    widget = KindsWidget(viewer)
    qtbot.addWidget(widget)
    widget.kind_combo.setCurrentText("rods")
    widget.session.set_detections(rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    widget.session.regions.propose(0, (10.0, 10.0, 30.0, 30.0))  # as Review next proposes one
    viewer.layers["img rods review box"].name = "my box"
    said = closing_words(widget)
    back, _, after = said.partition("come back")
    assert "'img rods'" in back and "my box" not in back, said
    assert "'my box' is not kept" in after, said
    assert "my box" not in viewer.layers  # as said: removed, and no project brings it back


def test_a_box_emptied_by_accepting_it_is_not_said_lost(qtbot):
    from napari_particle_detect._napari.widget import ParticleDetectWidget

    viewer = image_viewer()
    widget = ParticleDetectWidget(viewer)
    qtbot.addWidget(widget)
    answer_questions(widget)
    annotation = widget.state.annotation
    annotation.replace_frames({0: pd.DataFrame({"y": [20.0], "x": [20.0], "source": "added"})})
    annotation.regions.propose(0, (10.0, 10.0, 30.0, 30.0))
    widget.review.accept_region()  # its box leaves the review box layer, kept with the reviewed regions
    said = closing_words(widget)
    assert "'img reviewed regions'" in said and "review box" not in said, said


def test_the_volume_docks_emptied_box_is_not_said_lost():
    from napari_particle_detect._napari.dock_closing import _layers_kept_by_name, put_away_words

    viewer = ViewerModel()
    viewer.add_points(np.zeros((1, 3)), name="vol 3D centres")
    viewer.add_shapes(ndim=3, name="3D review box")  # Accept box empties it (volume_review_panel.accept_box)
    with _layers_kept_by_name(viewer):
        names = [layer.name for layer in viewer.layers]
        viewer.layers.clear()
        said = put_away_words("Volume detection (3D)", names, "centres and reviews")
    assert "'vol 3D centres'" in said and "review box" not in said, said
