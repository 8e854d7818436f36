"""The spheres dock names the dock made for a rods, chains or volume image where it can tell (a sample's metadata,
a volume's axes): it took them without a word and found sphere centres along rods and chains, and 2D centres in a
volume's slices. Said, not refused: Detect stays there for a user who wants spheres."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.gui import open_images

from helpers import make_widget, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def shown_note(widget) -> str:
    return widget.image_note.text() if widget.image_note.isVisibleTo(widget) else ""


def test_rods_chains_and_volumes_name_their_dock_and_other_images_nothing(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "rods")
    viewer.open_sample("napari-particle-detect", "volume")
    volume = tmp_path / "stack.tif"  # a user's own: ImageJ's axes say Z, no axis labels in napari
    tifffile.imwrite(volume, small_stack(4, 48).astype(np.float32), imagej=True, metadata={"axes": "ZYX"})
    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, small_stack(3, 48).astype(np.float32), imagej=True, metadata={"axes": "TYX"})
    open_images(viewer, [volume, movie])
    viewer.add_image(small_stack(1, 48)[0], name="plain")
    widget = make_widget(viewer, None)

    pick(widget, "synthetic rods")
    assert shown_note(widget) == (
        "'synthetic rods' shows rods: the Rods and chains dock (Plugins > napari-particle-detect > Rods and chains) "
        "detects them; Detect here finds sphere centres in it")
    assert widget.detect.run_button.isEnabled()  # not refused
    for name in ("synthetic spheres (3D)", "stack"):
        pick(widget, name)
        assert shown_note(widget) == (
            f"'{name}' is a volume (Z, Y, X): the Volume detection (3D) dock (Plugins > napari-particle-detect > "
            "Volume detection (3D)) finds its centres in 3D; Detect here reads its z slices as 2D frames")
        assert widget.detect.run_button.isEnabled()
    for name in ("movie", "plain"):
        pick(widget, name)
        assert shown_note(widget) == ""


def test_the_chains_sample_names_the_rods_and_chains_dock(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "chains")
    widget = make_widget(viewer, None)
    assert widget.annotation.image.name == "synthetic bead chains"
    assert shown_note(widget).startswith("'synthetic bead chains' shows chains: the Rods and chains dock")


def test_a_renamed_rods_image_is_named_as_it_is_now(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "rods")
    widget = make_widget(viewer, None)
    viewer.layers["synthetic rods"].name = "my rods"
    assert shown_note(widget).startswith("'my rods' shows rods: the Rods and chains dock")
