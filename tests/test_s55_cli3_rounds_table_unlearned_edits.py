"""``rounds PROJECT`` says which edits a round did not learn, as the docks do: it listed '1f 0r' for a round the user
believed had learned the points they deleted on frames they never accepted."""

from __future__ import annotations

import json

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project


def _project_with_a_round_that_left_edits(tmp_path):
    """A project whose round 2 was tuned from round 1 on frame 0, asked for 4 unreviewed frames (learned from 2), and
    left the edits of frame 1 (never accepted) and frame 2 (outside its accepted regions) unlearned."""
    project = Project.open(tmp_path / "img.tif", n_frames=8)
    project.ensure_initial_round(default_model_path())
    project.import_model(default_model_path())
    state_file = project.folder / "state.json"
    state = json.loads(state_file.read_text())
    state["rounds"][1].update(parent=1, trained_frames=[0], held_out=2, f1=0.9, parent_f1=0.8, improved=True,
                              unreviewed_frames=[5, 6], unreviewed_asked=4, edited_left_out=[1, 2],
                              edited_not_accepted=[1], edited_in_regions=[2])
    state_file.write_text(json.dumps(state))
    return project.folder


def test_rounds_names_the_edits_a_round_did_not_learn(tmp_path, capsys):
    folder = _project_with_a_round_that_left_edits(tmp_path)
    assert main(["rounds", str(folder)]) == 0
    heading, first, second, *notes = capsys.readouterr().out.splitlines()
    assert second.split("  ")[0:1] == ["002"] and "1f 0r + 2u, 2e not learned" in second
    # The scores stay in their column however long the trained cell is.
    assert second.index("0.800 / 0.900") == heading.index("held-out F1")
    assert first.startswith("001") and "not learned" not in first
    unlearned = [line for line in notes if "did not learn the edits" in line]
    assert unlearned == ["round-002 did not learn the edits of frame 1 (not accepted) nor those of frame 2 outside "
                         "its accepted regions: accept them (or regions around the edits) to teach a round"]
    assert any(line.startswith("round-002 also learned from 2 unreviewed frames") for line in notes)
