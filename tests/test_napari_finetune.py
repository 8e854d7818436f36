"""Fine-tuning from the dock: runs in a worker, keeps the viewer responsive, cancels cleanly, adds rounds."""

import time
from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.models import load_model
from napari_particle_detect.project import Project
from napari_particle_detect.session import FineTuneSettings
from napari_particle_detect.synthetic import benchmark_config, synthesize

from helpers import event_loop_ticks

TINY_TUNE = FineTuneSettings(epochs=2, steps_per_epoch=8, batch_size=2, crop=32, validation_images=1,
                             validation_size=48, threads=1)


pytestmark = pytest.mark.usefixtures("project_home")


@pytest.fixture
def reviewed(make_napari_viewer, qtbot, light_model):
    """A viewer whose 3-frame stack is detected, with frames 0 and 1 accepted."""
    viewer = make_napari_viewer()
    stack = np.stack([synthesize(benchmark_config("fluorescent", 0.5, (64, 64)), seed=s).image for s in range(3)])
    viewer.add_image(stack, name="cells")
    widget = ParticleDetectWidget(viewer, default_model=light_model)
    viewer.window.add_dock_widget(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    assert widget.annotation.project.reviewed_frames == [0, 1]
    return viewer, widget


def start_fine_tune(widget, settings):
    widget.finetune.settings = replace(settings)
    widget.finetune.epochs_spin.setValue(settings.epochs)
    widget.finetune.steps_spin.setValue(settings.steps_per_epoch)
    assert widget.finetune.run_button.text() == "Fine-tune on 2 reviewed frames"
    widget.finetune.run_button.click()
    assert widget.finetune.running()


def test_fine_tune_runs_in_a_worker_while_the_viewer_stays_responsive(reviewed, qtbot):
    viewer, widget = reviewed
    with event_loop_ticks() as ticks:
        started = time.monotonic()
        # Long enough (a few seconds on 2 cores) that a frozen event loop would show.
        start_fine_tune(widget, replace(TINY_TUNE, epochs=3, steps_per_epoch=15, batch_size=4, crop=48))
        qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
        elapsed = time.monotonic() - started
    print(f"training took {elapsed:.1f} s; the main-thread timer fired {len(ticks)} times "
          f"(largest gap {1000 * np.max(np.diff(ticks)):.0f} ms)")
    assert elapsed > 1.0
    assert len(ticks) >= 0.4 * elapsed / 0.020  # the event loop kept running throughout
    assert np.max(np.diff(ticks)) < 1.0  # and never stalled for a second

    project = widget.annotation.project
    assert [r.name for r in project.rounds] == ["round-001", "round-002"]
    assert project.current_round.number == 2
    new = project.round(2)
    assert new.parent == 1 and new.trained_frames == [0] and new.held_out == 1
    assert new.f1 is not None and new.parent_f1 is not None
    assert project.round_path(2).exists() and project.round_path(2).with_suffix(".json").exists()
    assert load_model(project.round_path(2)).card.training["fine_tuned_from"] == "round-001"
    assert "round-002 ready" in widget.finetune.status.text()
    assert widget.finetune.progress.value() == widget.finetune.progress.maximum()

    # The rounds table and the model list show it; an older round can be chosen again.
    assert widget.finetune.table.rowCount() == 2
    assert widget.finetune.table.item(1, 0).text() == "002 ◀" and widget.finetune.table.item(1, 1).text() == "001"
    assert widget.finetune.table.item(1, 4).text() == f"{new.f1:.3f}"
    labels = [widget.detect.model_combo.itemText(i) for i in range(widget.detect.model_combo.count())]
    assert labels[0].startswith("round-001") and labels[1].startswith("round-002")
    widget.detect._on_model_chosen(0)
    assert Project.open(project.folder).current_round.number == 1
    widget.finetune._use_row(1)
    assert project.current_round.number == 2

    # Detect on the unreviewed frame uses the new round and leaves reviewed frames alone.
    before = widget.annotation.frame_table(0)
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    assert widget.detect.progress.value() == 1  # only frame 2 was left to detect
    np.testing.assert_allclose(widget.annotation.frame_table(0)[["y", "x"]], before[["y", "x"]])


def test_cancel_stops_within_seconds_and_keeps_the_previous_model(reviewed, qtbot):
    viewer, widget = reviewed
    long_run = replace(TINY_TUNE, epochs=50, steps_per_epoch=200)
    start_fine_tune(widget, long_run)
    qtbot.waitUntil(lambda: widget.finetune.progress.value() > 0, timeout=60_000)
    cancelled_at = time.monotonic()
    widget.finetune.cancel_button.click()
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=10_000)
    print(f"stopped {time.monotonic() - cancelled_at:.2f} s after Cancel")
    assert time.monotonic() - cancelled_at < 5.0
    project = widget.annotation.project
    assert [r.number for r in project.rounds] == [1] and project.current_round.number == 1
    assert not project.leftover_workspaces()
    assert "cancelled" in widget.finetune.status.text()
    assert widget.finetune.run_button.isEnabled()
