"""The chains' paths layer is drawn from the beads: a path moved or deleted by hand changed no chain, yet stayed on
screen as the user left it, with nothing said; it is drawn back from the beads and the dock's line says how to edit
chains."""

import numpy as np
import pytest

from helpers import kinds_dock_detected

from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_path_edited_by_hand_is_drawn_back_from_the_beads_and_said(make_napari_viewer, qtbot):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=12)
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, sample.image, "chains")
    paths = viewer.layers["img chains"]
    drawn = [np.array(path) for path in paths.data]
    assert drawn
    saved = widget.session.tables[0].copy()
    moved = [path.copy() for path in drawn]
    moved[0][0] += 10.0  # a path's first vertex dragged away from its bead
    paths.data = moved
    assert np.array_equal(paths.data[0], drawn[0])  # drawn back where its beads are
    paths.selected_data = {0}
    paths.remove_selected()
    assert len(paths.data) == len(drawn)  # deleted, it comes back: its chain is still there
    assert widget.session.tables[0].equals(saved)
    assert "follows the beads" in widget.status.text() and "Cut between 2" in widget.status.text()
    beads = viewer.layers["img beads"]
    moved_beads = beads.data.copy()
    moved_beads[0] += 1.5  # a bead's own drag still moves its path, saying nothing of paths
    beads.data = moved_beads
    assert "follows the beads" not in widget.status.text()
