"""A job's warnings beyond the first few are counted as the job's own: a 3D fine-tune round's were called 'of the
same detection'."""

from __future__ import annotations

from napari_particle_detect._napari.notify import SHOWN_WARNINGS, show_warnings

from helpers import notification_count, notifications_since


def test_the_count_of_more_warnings_names_the_job_that_had_them():
    messages = [f"warning {i}" for i in range(SHOWN_WARNINGS + 2)]
    before = notification_count()
    show_warnings(messages, "fine-tune round")
    said = notifications_since(before)
    assert said == messages[:SHOWN_WARNINGS] + ["and 2 more warnings of the same fine-tune round (in the log)"]
    before = notification_count()
    show_warnings(messages)  # a Detect's, as before
    assert notifications_since(before)[-1] == "and 2 more warnings of the same detection (in the log)"
