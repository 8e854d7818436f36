"""`particle-detect gui` labels a stack's sliders as its file's metadata names its axes (t, y, x of frames; z of a
volume), as the reader labels its tables': napari showed '-3' beside a stack's frame slider. A stack whose metadata
names none keeps napari's numbers: frames or a volume, the Volume dock asks which."""

import numpy as np
import tifffile

from napari_particle_detect.cli.gui import build_viewer


def _stack(path, shape, axes=None):
    pixels = np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8)
    tifffile.imwrite(path, pixels, **({"imagej": True, "metadata": {"axes": axes}} if axes else {}))
    return path


def test_a_stacks_sliders_are_named_as_its_file_names_its_axes(tmp_path, project_home, napari_app_of_its_own):
    files = [_stack(tmp_path / "movie.tif", (4, 32, 32), "TYX"),
             _stack(tmp_path / "series.tif", (3, 4, 32, 32), "TZYX"), _stack(tmp_path / "plain.tif", (4, 32, 32))]
    viewer = build_viewer(files, show=False)
    try:
        assert viewer.layers["movie"].axis_labels == ("t", "y", "x")
        assert viewer.layers["series"].axis_labels == ("t", "z", "y", "x")  # napari's own reader opened it
        assert viewer.layers["plain"].axis_labels == ("-3", "-2", "-1")
    finally:
        viewer.close()
