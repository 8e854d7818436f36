"""The Particle detection dock's measuring and fine-tuning on a pyramid (multiscale) image: numpy reads napari's
pyramid as its smallest level, so the centres found at full resolution were measured, and a round trained, on the
pixels of a level a fraction of the size."""

from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE

from helpers import make_widget, pick, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")
TINY = replace(FINE_TUNE, steps_per_epoch=3, batch_size=2, crop=32, threads=1)


def _viewer_with_flat_and_pyramid(make_napari_viewer, light_model):
    viewer = make_napari_viewer()
    stack = small_stack(2, 64)
    viewer.add_image(stack, name="flat")
    viewer.add_image([stack, stack[:, ::2, ::2]], name="pyramid", multiscale=True)
    return viewer, make_widget(viewer, light_model)


def test_a_pyramids_centres_are_measured_at_full_resolution(make_napari_viewer, qtbot, light_model):
    viewer, widget = _viewer_with_flat_and_pyramid(make_napari_viewer, light_model)
    widget.measure.measure_check.setChecked(True)
    measured = {}
    for name in ("flat", "pyramid"):
        pick(widget, name)
        run_detect(widget, qtbot)
        measured[name] = widget.annotation.points.features[["mass", "size", "signal"]].to_numpy(float)
    assert len(measured["flat"]) and np.isfinite(measured["flat"]).any()
    np.testing.assert_allclose(measured["pyramid"], measured["flat"])


def test_a_round_on_a_pyramid_trains_on_its_full_resolution(make_napari_viewer, qtbot, light_model):
    viewer, widget = _viewer_with_flat_and_pyramid(make_napari_viewer, light_model)
    losses = {}
    for name in ("flat", "pyramid"):
        pick(widget, name)
        run_detect(widget, qtbot)
        viewer.dims.set_current_step(0, 0)  # the same frame accepted in each (the slider is the viewer's)
        widget.review.accept_and_next()
        widget.finetune.run(TINY)
        qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
        losses[name] = list(widget.finetune.loss_plot.losses)
    assert losses["flat"]
    np.testing.assert_allclose(losses["pyramid"], losses["flat"])
