"""A size doubt that changes no centre is one line in the dock, its reasons on hover (four lines of them pushed the
rounds table out of a 1000 px window once every status line was shown whole)."""

from napari_particle_detect._napari.detect_panel import SAME_CENTRES_WARNING, estimate_texts, shown_warning
from napari_particle_detect.detection.sizing import DIAMETER_ADVICE, SAME_DETECTION
from napari_particle_detect.projects.size_estimate import RememberedEstimate


def test_a_doubt_that_changes_no_centre_is_one_line_and_others_are_said_whole():
    same = estimate_texts(RememberedEstimate(6.0, False, False, f"the background is busy: may be 20 % off; {SAME_DETECTION}"))[1]
    crowded = estimate_texts(RememberedEstimate(9.0, False, False, f"the particles crowd; {DIAMETER_ADVICE}"))[1]
    assert shown_warning(same) == SAME_CENTRES_WARNING and len(SAME_CENTRES_WARNING) < len(same)
    assert shown_warning(crowded) == crowded and shown_warning("") == ""
