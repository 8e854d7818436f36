"""An image in a folder that cannot be written (a read-only share or USB stick): the Rods and chains dock keeps its
rods project in the projects home, as the Particle detection dock keeps its project, and says so. Beside the image it
could not be made: the dock opened no project, Detect did nothing, and no edit could be kept."""

import errno
import os

import tifffile

from napari_particle_detect.projects.kinds_project import existing_kinds

from helpers import kinds_dock, small_rods_image


def _refuse_making_folders_in(monkeypatch, folder) -> None:
    """Nothing can be made inside ``folder`` (as root, chmod would not stop it: the refusal is made where the project
    and the write check make their folders)."""
    mkdir, root = os.mkdir, str(folder) + os.sep

    def refuse(target, *args, **kwargs):
        if os.path.abspath(os.fsdecode(target)).startswith(root):
            raise PermissionError(errno.EPERM, "Operation not permitted", os.fsdecode(target))
        return mkdir(target, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)


def test_rods_of_an_image_in_a_read_only_folder_are_kept_in_the_home(make_napari_viewer, qtbot, project_home,
                                                                       tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    path = shared / "img.tif"
    tifffile.imwrite(path, small_rods_image())
    _refuse_making_folders_in(monkeypatch, shared)
    viewer = make_napari_viewer()
    viewer.open(path, plugin="napari")

    widget = kinds_dock(viewer, "rods", "img")
    assert widget.session is not None and widget.session.project.folder.is_relative_to(project_home)
    assert "projects home" in widget.status.text()
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    layer = viewer.layers["img rods"]
    found = len(layer.data)
    layer.selected_data = {0}
    layer.remove_selected()  # an edit, saved at once
    assert widget.session.project.edited_frames == [0]
    assert list(shared.iterdir()) == [path]

    viewer.window.remove_dock_widget(widget)  # closed and opened again: the edit is there
    widget = kinds_dock(viewer, "rods", "img")
    assert len(viewer.layers["img rods"].data) == found - 1
    assert existing_kinds(path) == ["rods"]
