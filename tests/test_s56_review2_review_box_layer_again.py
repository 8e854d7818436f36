"""The Review panel follows each review-box layer's drawing to give the keys back to the centres once a box is drawn.
It knew the layers it followed by id(): a review-box layer removed and made again could have the removed one's id
(CPython reuses a freed object's address), and the new layer's boxes then left the keys with the box layer (Enter,
P and S went to it, not to the centres). The reuse is made certain here by an id() that gives every layer one id."""

import pytest

from helpers import make_widget, small_stack

from napari_particle_detect._napari import review_panel

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_review_box_layer_made_again_gives_the_keys_back_after_a_box(make_napari_viewer, qtbot, monkeypatch):
    monkeypatch.setattr(review_panel, "id", lambda _obj: 1, raising=False)  # every layer at the freed one's address
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    centres = annotation.ensure_points_layer()
    widget.review.draw_box()
    viewer.layers.remove(annotation.regions.draft)  # the user deletes the review-box layer

    widget.review.draw_box()
    draft = annotation.regions.draft
    assert viewer.layers.selection.active is draft and draft.mode == "add_rectangle"
    draft.add_rectangles([[5.0, 5.0], [30.0, 30.0]])  # as a drag in add_rectangle mode ends
    qtbot.waitUntil(lambda: viewer.layers.selection.active is centres, timeout=2000)
    assert draft.mode == "select"
