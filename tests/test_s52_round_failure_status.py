"""A round that failed keeps its reason on the fine-tune status line (the worker lost, the scheduler unreachable): the
line said only "failed; still using round-001", and the notification with the reason goes away."""

import numpy as np
import pytest

from helpers import make_widget

from napari_particle_detect.errors import ParticleDetectError

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_failed_rounds_reason_stays_on_the_status_line(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 32, 32), np.uint16), name="cells")
    widget = make_widget(viewer, None)
    panel = widget.finetune
    in_use = widget.state.ensure_round()
    panel.show_failure(ParticleDetectError("tcp://gpu:8786: the dask worker training the round was lost; nothing "
                                           "was changed: start the round again\n(details)"), in_use)
    assert panel.status.text() == ("failed (tcp://gpu:8786: the dask worker training the round was lost; nothing was "
                                   f"changed: start the round again); still using {in_use.name}")
    panel.show_failure(RuntimeError("boom"), in_use)
    assert panel.status.text() == f"failed (unexpectedly: RuntimeError); still using {in_use.name}"
