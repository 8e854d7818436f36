"""The panels after detection as a user meets them: exports into a folder that cannot be written say so in one
line (no traceback naming a temporary file), Export's counts never replace someone's file of that name, and the
Measurements legend is the shown image's own."""

import numpy as np
import pytest

from helpers import make_widget, notification_count, notifications_since, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def _hand_placed(viewer, name: str = "cells"):
    """A dock on a 3-frame image whose centres were placed by hand (no Detect: fast), each particle a pixel
    further every frame, so Link makes tracks of them."""
    viewer.add_image(np.zeros((3, 48, 48), np.uint16), name=name)
    widget = make_widget(viewer, None)
    points = widget.annotation.ensure_points_layer()
    for frame in range(3):
        points.add([[frame, 10.0 + frame, 12.0], [frame, 30.0, 20.0 + frame]])
    return widget


def test_exports_to_a_folder_that_cannot_be_written_say_so_in_one_line(make_napari_viewer, qtbot, tmp_path):
    # A file where the folder should be: no export can be written under it, whoever the user is (as root, a
    # chmod'ed folder would still take the files).
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    viewer = make_napari_viewer()
    widget = _hand_placed(viewer)
    widget.tracks.link()
    qtbot.waitUntil(lambda: not widget.tracks.running(), timeout=60_000)
    widget.state.ensure_round()  # the shipped model as round 1, as Detect makes it
    widget.finetune.table.selectRow(0)

    exports = [(widget.export.export, "centres.csv", "the centres"),
               (widget.tracks.export, "tracks.csv", "the tracks"),
               (widget.finetune.round_actions.export, "round.pt", "round-001")]
    for export, name, what in exports:
        count = notification_count()
        assert export(blocked / name) is None  # reported, not raised out of the button's handler
        said = notifications_since(count)
        assert len(said) == 1 and said[0].startswith(f"{blocked / name}: could not write {what} there ("), said
        assert ".tmp" not in said[0]
    assert widget.export.summary.text() == ""  # no export is said to have been made


def test_export_never_replaces_someone_elses_file_by_the_name_of_its_counts(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    widget = _hand_placed(viewer)
    theirs = tmp_path / "cells_counts.csv"
    theirs.write_text("my own tally\n3,4\n")

    count = notification_count()
    assert widget.export.export(tmp_path / "cells.csv") is None
    assert notifications_since(count) == [f"{theirs}: already there and not an export's counts, which would replace "
                                          "it; move it, or export the centres under another name"]
    assert theirs.read_text() == "my own tally\n3,4\n" and not (tmp_path / "cells.csv").exists()

    theirs.unlink()
    for _ in range(2):  # an export's own counts are replaced by the next export's
        assert widget.export.export(tmp_path / "cells.csv") == tmp_path / "cells.csv"
    assert theirs.read_text().startswith("frame,count,reviewed")


def test_the_measurements_legend_is_the_shown_images_own(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="first")
    viewer.add_image(small_stack(2, 48), name="second")
    widget = make_widget(viewer, None)
    pick(widget, "first")
    widget.annotation.project.remember_detection(8.0, "auto")  # the size measuring needs, as Detect leaves it
    points = widget.annotation.ensure_points_layer()
    points.add([[0, 12.0, 12.0], [0, 30.0, 30.0], [1, 20.0, 24.0]])
    widget.measure.measure_check.setChecked(True)
    widget.measure.colour_combo.setCurrentText("mass")
    assert widget.measure.legend.text().startswith("mass: ")

    pick(widget, "second")  # nothing detected or measured on it yet
    assert widget.annotation.image.name == "second"
    assert widget.measure.legend.text() == ""  # not the first image's range of masses


def test_link_that_keeps_no_track_says_why_and_offers_no_empty_export(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    widget = _hand_placed(viewer)
    panel = widget.tracks
    panel.link()  # tracks first: their Export must not stay on for the empty Link after
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.export_button.isEnabled()
    panel.length_spin.setValue(10)  # longer than the 3-frame stack
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text() == ("no tracks: none is seen in 10 frames or more (min length; the stack has 3 "
                                   "frames); lower min length and Link again")
    assert not panel.export_button.isEnabled()  # it wrote a table of no rows
    assert panel.export(tmp_path / "none.csv") is None and not (tmp_path / "none.csv").exists()

    panel.length_spin.setValue(3)
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text().startswith("2 tracks, each 3 frames long") and panel.export_button.isEnabled()


def test_export_under_a_name_without_csv_is_refused_as_the_tracks_export_is(make_napari_viewer, tmp_path):
    # Written as "cells" (no suffix) beside cells_counts.csv: a file no program opens as a table.
    viewer = make_napari_viewer()
    widget = _hand_placed(viewer)
    count = notification_count()
    out = tmp_path / "out"
    out.mkdir()
    assert widget.export.export(out / "cells") is None
    assert notifications_since(count) == ["cells: centres are exported as CSV; give a name ending in .csv"]
    assert list(out.iterdir()) == []
