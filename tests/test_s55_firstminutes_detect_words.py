"""A first Detect says what it does before its first frame: on one frame the bar is a busy bar, which shows no text,
and it spun for 3-6 s without a word (the model loading, the network prepared, the particles' size estimated)."""

import pytest

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_single_frame_detect_says_what_it_does_until_its_first_frame(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="cells")
    widget = make_widget(viewer, light_model)
    panel = widget.detect
    lines = []
    panel.stage_label.setText = lambda text, set_text=panel.stage_label.setText: (lines.append(text), set_text(text))

    panel.scope_combo.setCurrentIndex(0)
    panel.run_button.click()
    assert panel.running() and panel.progress.maximum() == 0  # the busy bar, which shows no text
    assert panel.stage_label.isVisibleTo(widget) and panel.stage_label.text() == "Loading the model…"
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)

    assert [line for line in lines if line] == [
        "Loading the model…", "Loading the model…",
        "Preparing the network, estimating the particles' size and detecting (the first run takes a few seconds "
        "longer)…"]
    assert not panel.stage_label.isVisibleTo(widget)  # said no longer once the frame is done
    assert panel.progress.text() == "1 / 1 frames"


def test_a_detect_given_the_diameter_does_not_claim_to_estimate_it(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    panel = widget.detect
    panel.diameter_spin.setValue(12.0)
    lines = []
    panel.stage_label.setText = lambda text, set_text=panel.stage_label.setText: (lines.append(text), set_text(text))

    panel.scope_combo.setCurrentIndex(1)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)

    assert "Preparing the network and detecting (the first run takes a few seconds longer)…" in lines
    assert not panel.stage_label.isVisibleTo(widget)
