"""The Rods and chains dock's review box and round line: a box drawn and not accepted went without a word when
another kind was chosen, a box taken over from a dock closed without its X was not known as one once renamed, a
reopened dock's verdict lost its time and its "Detect … to use it", Review next on a frame never detected said
only "no unreviewed region left in the detected frames", and the round's notifications read names as markup."""

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock, notification_count, notifications_since
from napari_particle_detect._napari.kind_rounds_panel import TO_USE_FRAMES, KindRoundsPanel
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.projects.project import RoundInfo
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")
BOX = np.array([[0, 10, 10], [0, 10, 40], [0, 40, 40], [0, 40, 10]], float)


def _rods_dock_on_a_stack(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((2, 64, 64)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    return viewer, widget


def _rods(frame: int):
    return rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=frame, score=0.9)


def test_a_box_not_accepted_is_said_not_kept_and_a_verdict_told_again_keeps_its_time_and_what_to_detect(
        make_napari_viewer):
    viewer, widget = _rods_dock_on_a_stack(make_napari_viewer)
    session = widget.session
    project = session.project
    project.commit_round(project.new_workspace(), RoundInfo(number=0, origin="shipped"))
    session.set_detections(pd.concat([_rods(0), _rods(1)]), [0, 1], detected_by=1)
    session.accept_frame(0)
    # A remote round: 3 s on its dask worker, 19 s waited for.
    project.commit_round(project.new_workspace(), RoundInfo(
        number=0, origin="fine-tuned", parent=1, held_out=2, f1=0.9, parent_f1=0.5, improved=True, seconds=3.0,
        waited=19.0), make_current=True)
    session.regions.start_drawing().add_rectangles(BOX)
    seen = notification_count()
    widget.kind_combo.setCurrentText("chains")
    assert "'img rods review box' is not kept" in " ".join(notifications_since(seen))

    widget.kind_combo.setCurrentText("rods")  # its project opened again: the round's end told again
    said = widget.rounds.status.text()
    assert said.startswith("round-002") and said.endswith(
        f"Finished in 19 s (3 s of it on the dask worker). {TO_USE_FRAMES}")
    project.set_detected_by(1, 2)  # frame 1 detected again, with round-002
    widget.rounds.drop_done_advice()
    assert widget.rounds.status.text() == said[:-len(TO_USE_FRAMES) - 2]


def test_a_rounds_notification_shows_the_image_named_as_it_is(qtbot):
    panel = KindRoundsPanel(lambda: None, lambda: None)
    qtbot.addWidget(panel)
    info = RoundInfo(number=2, origin="fine-tuned", parent=1, held_out=2, f1=0.4, parent_f1=0.5, improved=False)
    seen = notification_count()
    panel.show_verdict(info, None, subject="'a<b>c' rods")
    said = notifications_since(seen)
    assert len(said) == 1 and said[0].startswith("'a<b>c' rods: round-002")  # as written, plain text


def test_a_box_taken_over_is_one_whatever_its_name_and_review_next_names_the_frame_never_detected(
        make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((2, 64, 64)).astype(np.float32), name="img")
    viewer.add_shapes(BOX + [1, 0, 0], shape_type="rectangle", name="img rods review box")  # left by an earlier dock
    widget = kinds_dock(viewer, "rods", "img")
    session = widget.session
    assert session.regions.draft is viewer.layers["img rods review box"]
    session.set_detections(_rods(0), [0])
    session.accept_region(0, (-0.5, -0.5, 63.5, 63.5))
    viewer.dims.set_current_step(0, 1)
    with pytest.raises(ParticleDetectError, match=r"^frame 1 \(shown\) is not detected yet: run Detect on it \(no "
                                                  "unreviewed region left in the detected frames\)$"):
        session.next_proposal(0.5)

    viewer.layers["img rods review box"].name = "my box"
    seen = notification_count()
    viewer.window.remove_dock_widget(widget)
    said = " ".join(notifications_since(seen))
    assert "'my box' is not kept" in said and said.count("'my box'") == 1  # not among the layers coming back


