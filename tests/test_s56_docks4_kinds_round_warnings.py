"""A rods or chains Fine-tune round's warnings are shown in the window, as the volume dock's round and every
Detect show theirs: a chains round on beads larger than the model reads (resampled for it, as detection does)
said so only in a terminal."""

from dataclasses import replace

import pytest

from helpers import kinds_dock, notification_count, notifications_since
from napari_particle_detect.learning.kinds_rounds import round_config
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

TINY = replace(round_config("chains"), steps_per_epoch=3, batch_size=2, crop=64)

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_chains_rounds_warning_is_shown_in_the_window(make_napari_viewer, qtbot):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(128, 128), radius=11.0), seed=8)
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="img")
    widget = kinds_dock(viewer, "chains", "img")  # 22 px beads: the chains model reads them resampled
    widget.session.set_detections(sample.table.assign(frame=0, score=1.0), [0])
    widget.session.accept_frame(0)
    start = notification_count()
    widget.rounds.run(TINY)
    qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=120_000)
    said = notifications_since(start)
    assert any("the beads read about" in line and "resampled" in line for line in said), said
    assert widget.rounds.status.text().startswith("round-002")  # the verdict is still said
