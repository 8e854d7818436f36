"""What the Fine-tune box says of a remote round and after one that did not finish: the worker's own "preparing"
line read as a step back after "starting the round on the dask worker X…"; "finished in 8 s" was the worker's time
while the user waited longer; a cancelled round dropped the last finished round's loss curve (the plot stayed
empty); and a failure's reason was cut at a line break in a file name."""

from dataclasses import replace

import pytest

from napari_particle_detect._napari.round_progress import describe
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE

import test_napari_finetune
from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")
reviewed = test_napari_finetune.reviewed  # a 3-frame stack detected, two frames accepted
TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1)


def test_a_failures_reason_keeps_a_file_name_with_a_line_break_whole(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 32), name="cells")
    panel = make_widget(viewer, None).finetune
    in_use = panel.state.ensure_round()
    panel.show_failure(ParticleDetectError("/data/run\n3/model.pt: not a model file"), in_use)
    assert panel.status.text() == f"failed (/data/run\\n3/model.pt: not a model file); still using {in_use.name}"


def test_a_remote_round_says_where_it_prepares_and_how_long_it_was_waited_for(reviewed, qtbot):
    distributed = pytest.importorskip("distributed")
    viewer, widget = reviewed
    panel = widget.finetune
    events = []
    panel._relay.event.connect(events.append)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        panel.where_edit.setText(cluster.scheduler_address)
        panel.run(TINY_TUNE)
        qtbot.waitUntil(lambda: not panel.running(), timeout=120_000)
        worker = next(iter(cluster.scheduler_info["workers"]))
    lines = [describe(event).text for event in events]
    assert f"preparing the round on the dask worker {worker}…" in lines, lines
    done = next(event for event in events if event["phase"] == "done")
    assert done["waited"] >= done["seconds"]
    assert describe(done).text.startswith(f"finished in {done['waited']:.0f} s")
    assert "on the dask worker" in describe(done).text
    assert widget.annotation.project.round(2).parent == 1

    curve = panel.loss_plot.kept()
    assert curve.steps
    panel.where_edit.setText("")
    panel.run(TINY_TUNE)
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text().startswith("cancelled")
    assert panel.loss_plot.kept() == curve  # the last finished round's, not an empty plot
    assert not panel.loss_plot._placeholder.get_visible()
