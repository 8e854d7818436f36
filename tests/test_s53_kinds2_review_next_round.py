"""Review next in the Rods and chains dock: after the last unreviewed region it said "every unreviewed region was
proposed once; ask again to start over" instead of proposing the first again (the Particle detection and Volume
docks come round again), and a single image all accepted was told to "run Detect on another frame"."""

import numpy as np
import pytest

from helpers import kinds_dock
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def test_review_next_comes_round_again_and_a_reviewed_image_is_not_sent_to_another_frame(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    rods = rod_table([14.0, 34.0], [24.0, 24.0], [0.0, 0.0], [16.0, 16.0], [4.0, 4.0])
    widget.session.set_detections(rods.assign(frame=0, score=[0.5, 0.9]), [0])
    session = widget.session
    shown = [session.next_proposal(0.5) for _ in range(3)]
    boxes = [proposal.box for proposal in shown]
    assert boxes[0] in boxes[1:]  # round again, not an error

    session.accept_frame(0)
    with pytest.raises(ParticleDetectError, match="'img' is reviewed") as said:
        session.next_proposal(0.5)
    assert "another frame" not in str(said.value)
