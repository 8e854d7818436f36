"""The spheres dock after a round that did not happen and across images: a cancelled round's loss curve went on
showing as if the round had been trained, and rings recoloured by a measurement on one image kept those colours
after "source" was chosen on another image and the dock came back to the first."""

from dataclasses import replace

import numpy as np
import pytest

from helpers import link_tracks, make_widget, pick, run_detect, small_stack, two_images_detected_on_a

from napari_particle_detect.learning.finetune import FINE_TUNE

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_cancelled_rounds_loss_curve_goes_with_it(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, None)
    run_detect(widget, qtbot)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    panel = widget.finetune
    panel.run(replace(FINE_TUNE, steps_per_epoch=5000, batch_size=2, crop=32, threads=1))
    qtbot.waitUntil(lambda: bool(panel.loss_plot.losses), timeout=60_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running(), timeout=30_000)
    assert "cancelled; still using round-001" in panel.status.text()
    assert [r.number for r in widget.annotation.project.rounds] == [1]
    plot = panel.loss_plot
    assert not plot.losses and not len(plot.line.get_xdata())
    assert plot._placeholder.get_visible()  # "shown while a round trains", as before any round


def _ring_colours(layer) -> int:
    return len(np.unique(np.asarray(layer.border_color).round(3), axis=0))


def test_source_colours_come_back_on_each_image_recoloured(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64), name="a")
    viewer.add_image(small_stack(1, 64)[:, ::-1].copy(), name="b")
    widget = make_widget(viewer, None)
    layers = {}
    for name in ("a", "b"):
        pick(widget, name)
        run_detect(widget, qtbot)
        layers[name] = widget.annotation.points
    sources = {name: np.asarray(layer.border_color).copy() for name, layer in layers.items()}
    assert all(_ring_colours(layer) == 1 for layer in layers.values())  # all the network's: yellow

    pick(widget, "a")
    widget.measure.colour_combo.setCurrentText("score")
    pick(widget, "b")  # recoloured by score too, as the list says
    assert _ring_colours(layers["a"]) > 1 and _ring_colours(layers["b"]) > 1
    widget.measure.colour_combo.setCurrentText("source")
    pick(widget, "a")
    for name, layer in layers.items():  # 'a' kept its score colours under the legend of the sources
        np.testing.assert_allclose(np.asarray(layer.border_color), sources[name], err_msg=name)
    assert widget.measure.legend.text().startswith("yellow: network")


def test_one_images_tracks_are_hidden_while_another_image_is_picked(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget = two_images_detected_on_a(viewer, qtbot)
    link_tracks(widget, qtbot)
    tracks = viewer.layers["a tracks"]
    assert tracks.visible
    pick(widget, "b")  # 'a''s trajectories drawn over 'b' read as 'b''s
    assert not tracks.visible
    pick(widget, "a")
    assert tracks.visible
