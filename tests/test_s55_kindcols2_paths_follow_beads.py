"""A chains table opened in napari without the Rods and chains dock: its magenta paths stayed where the beads had
been after a bead was deleted or moved (until the file was opened again), though the file saved was right. They
follow the beads' edits now, in a second copy of the file opened too (napari renames its layers), and where the dock
draws them, saying nothing of the paths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect.kinds.registry import write_kind_table

PLUGIN = "napari-particle-detect"


def _open_chains(viewer, tmp_path) -> tuple:
    table = pd.DataFrame({"frame": 0, "y": [20.0, 20, 20, 50, 50], "x": [20.0, 26, 32, 20, 26], "score": 0.9,
                          "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0, "source": "model"})
    write_kind_table(table, tmp_path / "c.csv", "chains")
    return tuple(viewer.open(str(tmp_path / "c.csv"), plugin=PLUGIN))


def _paths(layer) -> list[list[list[float]]]:
    return [np.asarray(path)[:, -2:].tolist() for path in layer.data]


def test_the_paths_follow_beads_moved_deleted_and_placed_without_a_dock(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((80, 80), np.float32), name="img")
    beads, paths = _open_chains(viewer, tmp_path)
    other_beads, other_paths = _open_chains(viewer, tmp_path)  # 'c beads [1]', 'c chains [1]'
    moved = beads.data.copy()
    moved[4, -1] += 4.0  # chain 1's second bead dragged right
    beads.data = moved
    assert _paths(paths)[1] == [[50.0, 20.0], [50.0, 30.0]]
    beads.add([0, 70.0, 70.0])  # a bead placed: a chain of its own, no path
    assert len(paths.data) == 2
    beads.selected_data = {2}  # chain 0's last bead deleted
    beads.remove_selected()
    assert _paths(paths) == [[[20.0, 20.0], [20.0, 26.0]], [[50.0, 20.0], [50.0, 30.0]]]
    other_beads.selected_data = {0}
    other_beads.remove_selected()  # the second copy's paths follow its own beads, the first's stay
    assert _paths(other_paths) == [[[20.0, 26.0], [20.0, 32.0]], [[50.0, 20.0], [50.0, 26.0]]]
    assert len(paths.data) == 2 and _paths(paths)[0] == [[20.0, 20.0], [20.0, 26.0]]
