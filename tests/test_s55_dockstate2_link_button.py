"""The Tracks panel's Link offered only with an image to link, as Detect's button."""

from __future__ import annotations

import pytest

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_s55_dockstate2_link_waits_for_an_image(make_napari_viewer):
    # With no image open, Link stood enabled; clicked, it answered with an error.
    viewer = make_napari_viewer()
    widget = make_widget(viewer, None)
    assert widget.annotation is None
    assert not widget.tracks.link_button.isEnabled()

    viewer.add_image(small_stack(2, 48), name="cells")
    assert widget.annotation is not None and widget.tracks.link_button.isEnabled()

    viewer.layers.remove("cells")
    assert widget.annotation is None and not widget.tracks.link_button.isEnabled()
    assert not widget.detect.run_button.isEnabled()  # as Detect's


def test_s55_dockstate2_fine_tune_waits_for_an_image(make_napari_viewer):
    # Opened with no image, the panel offered "Fine-tune", enabled; clicked, it answered with an error.
    viewer = make_napari_viewer()
    widget = make_widget(viewer, None)
    assert widget.annotation is None
    button = widget.finetune.run_button
    assert not button.isEnabled() and button.text() == "Fine-tune (accept frames or regions first)"
