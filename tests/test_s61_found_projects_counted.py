"""Several projects made for an image found elsewhere are counted on the dock's project line, named in the message and
the line's tooltip: four folders with their dates filled seven lines of the dock (the walkthrough's sibling /tmp
folders). One found is still named on the line."""

from napari_particle_detect._napari.notify import found_elsewhere_note
from napari_particle_detect.projects.project import PROJECT_SUFFIX

from helpers import make_widget, notification_count, notifications_since
from test_project_found_elsewhere import _image, _project_with_a_frame, _record


def _copies(tmp_path, count: int):
    """An image in images/ and ``count`` projects made for it in sibling folders (copies of the work)."""
    image = tmp_path / "work" / "images" / "cells.tif"
    stack = _image(image)
    found = [_project_with_a_frame(tmp_path / "work" / f"copy{i}" / f"cells{PROJECT_SUFFIX}", image, stack).folder
             for i in range(count)]
    return image, stack, found


def test_the_spheres_docks_line_counts_several_projects_found_and_its_tooltip_names_them(make_napari_viewer, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image, _, found = _copies(tmp_path, 3)
    viewer = make_napari_viewer()
    seen = notification_count()
    viewer.open(image, plugin="napari")
    widget = make_widget(viewer, None)
    line = widget.project_label.text()
    assert "found 3 projects made for this image (hover for where): Folder… to use one" in line, line
    assert not any(str(folder) in line for folder in found), line
    tip = widget.project_label.toolTip()
    assert all(str(folder) in tip for folder in found), tip
    said = [m for m in notifications_since(seen) if "projects made for this image" in m]
    assert len(said) == 1 and all(str(folder) in said[0] for folder in found), said


def test_the_other_docks_note_counts_several_and_names_one(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image, stack, found = _copies(tmp_path, 2)
    here = image.with_suffix(PROJECT_SUFFIX)
    said: set[str] = set()
    note = found_elsewhere_note("cells", image, here, lambda: _record(image, stack), said)
    assert note.startswith("found 2 projects made for this image (named in the message): move the one to carry on")
    assert not any(str(folder) in note for folder in found)
    assert len(said) == 1 and all(str(folder) in next(iter(said)) for folder in found)
    image_one, stack_one, (one,) = _copies(tmp_path / "single", 1)
    note = found_elsewhere_note("cells", image_one, image_one.with_suffix(PROJECT_SUFFIX),
                                lambda: _record(image_one, stack_one), set())
    assert note.startswith(f"found a project made for this image at {one} (last changed ")
