"""The dock's semi-supervised option: a round that also learns from unreviewed frames shows its
teacher pass, records how many frames it pseudo-labelled, and the option can be turned off."""

from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect._napari.round_progress import describe
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.models import load_model

from helpers import make_widget, run_detect, small_stack

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1, learn_criterion=False)

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_dock_learns_from_unreviewed_frames_and_shows_the_teacher_pass(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(4, 96), name="cells")
    from napari_particle_detect.models.registry import WEIGHTS_DIR
    widget = make_widget(viewer, WEIGHTS_DIR / "unet.pt")  # a teacher sure of something on these frames
    run_detect(widget, qtbot)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    panel = widget.finetune
    assert panel.unlabelled_check.text() == "also learn from unreviewed frames"
    panel.unlabelled_check.setChecked(False)
    assert panel.round_config(TINY_TUNE).unlabelled_frames == 0 and not panel.unlabelled_spin.isEnabled()
    panel.unlabelled_check.setChecked(True)
    panel.unlabelled_spin.setValue(2)
    config = panel.round_config(TINY_TUNE)
    assert config.unlabelled_frames == 2

    shown = []
    panel._relay.event.connect(lambda event: shown.append(panel.status.text()))
    panel.run(config)
    assert not panel.unlabelled_check.isEnabled()  # not changed under a running round
    qtbot.waitUntil(lambda: not panel.running(), timeout=120_000)
    phases = panel.phases
    assert phases.index("teacher") < phases.index("training") and phases[-1] == "done", phases
    assert any(text.startswith("teacher pass 1 / 2 frames") for text in shown), shown
    project = widget.annotation.project
    card = load_model(project.round_path(2)).card
    assert card.training["fine_tuned"]["pseudo_labelled_frames"] == 2  # frames 2 and 3, nobody reviewed them
    assert panel.unlabelled_check.isEnabled() and panel.unlabelled_spin.isEnabled()
    assert describe({"phase": "teacher", "done": 3, "total": 8}).maximum == 8
    assert np.isfinite(project.round(2).f1)


def test_on_a_gpu_the_dock_offers_the_longer_round_with_unreviewed_frames(make_napari_viewer, monkeypatch,
                                                                          light_model):
    import torch

    from napari_particle_detect.learning import finetune

    monkeypatch.setattr(finetune, "select_device", lambda requested="auto": torch.device("cuda"))
    gpu = make_widget(make_napari_viewer(), light_model).finetune
    assert gpu.steps_spin.value() == 500 and (gpu.config.batch_size, gpu.config.learning_rate) == (32, 4e-3)
    assert gpu.unlabelled_check.isChecked() and gpu.unlabelled_spin.value() == 8
    monkeypatch.setattr(finetune, "select_device", lambda requested="auto": torch.device("cpu"))
    cpu = make_widget(make_napari_viewer(), light_model).finetune
    assert cpu.steps_spin.value() == 200 and not cpu.unlabelled_check.isChecked()
    assert (cpu.config.batch_size, cpu.config.learning_rate) == (8, 2e-3)
