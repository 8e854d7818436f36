"""A TIFF stack whose first frame is damaged (its compressed page garbled) failed in open_images (particle-detect
gui): the contrast was read from the first frame, whose read raised, where a stack damaged further on opens with that
frame drawn blank. The contrast comes from the first frame that reads."""

from helpers import damaged_acquisition, small_stack
from napari_particle_detect.cli.gui import open_images


def test_a_stack_whose_first_frame_is_damaged_opens_over_the_next_ones_grey_levels(tmp_path, make_napari_viewer):
    frames = small_stack(3, 48)
    path = damaged_acquisition(tmp_path / "movie.tif", frames, damaged=(0,))
    [layer] = open_images(make_napari_viewer(), [path])
    low, high = layer.contrast_limits
    assert frames[1].min() <= low < high <= frames[1].max()
