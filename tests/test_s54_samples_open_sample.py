"""A new user's first minutes with File > Open Sample and napari's File > Open of the shipped sample files."""

import numpy as np

PLUGIN = "napari-particle-detect"


def test_bulk_water_sample_opens_over_its_own_grey_levels(make_napari_viewer):
    # Its grey levels are 93-140 of 0-255: at napari's default limits it was a flat grey canvas.
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "bulk_water")
    [layer] = viewer.layers
    pixels = np.asarray(layer.data)
    assert tuple(layer.contrast_limits) == (pixels.min(), pixels.max()) == (93, 140)
    assert tuple(layer.contrast_limits_range) == (93, 140)  # the slider spans the levels the image has


def test_a_shipped_sample_opened_as_a_file_keeps_its_project_out_of_the_package(make_napari_viewer, project_home):
    # File > Open of the package's own TIFF put the image's project beside it, inside the installed package.
    from napari_particle_detect._napari.widget import ParticleDetectWidget
    from napari_particle_detect.shipped import SAMPLE_DATA_DIR

    viewer = make_napari_viewer()
    viewer.open(str(SAMPLE_DATA_DIR / "trackpy_bulk_water_3.tif"), plugin="napari")
    widget = ParticleDetectWidget(viewer)
    viewer.window.add_dock_widget(widget)
    folder = widget.state.annotation.project.folder
    assert folder.resolve().is_relative_to(project_home.resolve())
    assert not any(SAMPLE_DATA_DIR.glob("*.particle-detect"))
