"""A tracks table the user opened is theirs: a Link on the image it is named for neither removes nor adopts it."""
import numpy as np

from helpers import link_tracks, pick, two_images_detected_on_a


def test_an_opened_tracks_layer_named_as_a_links_survives_the_link(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    theirs = viewer.add_tracks(np.array([[0, 0, 10, 10], [0, 1, 11, 11]], float), name="a tracks")  # a_tracks.csv
    widget = two_images_detected_on_a(viewer, qtbot)
    link_tracks(widget, qtbot)
    assert theirs in viewer.layers  # not taken for the Link's own and replaced
    pick(widget, "b")
    assert theirs.visible  # nor hidden with 'a''s layers
