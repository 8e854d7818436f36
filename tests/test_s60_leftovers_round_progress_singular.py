"""The dock's round progress line counts one area or frame in the singular ("1 of 1 areas", "0 / 1 frames" said
before), as the command line's round_phase_label does."""

from __future__ import annotations

from napari_particle_detect._napari.round_progress import describe


def test_one_area_and_one_frame_are_said_in_the_singular_and_more_in_the_plural():
    scoring = {"phase": "scoring", "model": "new model", "done": 1, "total": 1}
    assert describe(scoring).text == "scoring the new round on the held-out tiles: 1 of 1 area"
    assert describe({**scoring, "total": 2}).text.endswith(": 1 of 2 areas")
    teacher = {"phase": "teacher", "done": 0, "total": 1}
    assert describe(teacher).text == "teacher pass 0 / 1 frame: labelling unreviewed frames"
    assert describe({**teacher, "total": 3}).text.startswith("teacher pass 0 / 3 frames: ")
    assert (describe(teacher).value, describe(teacher).maximum) == (0, 1)
