"""A tracks table the user opened is theirs: a Link on the image it is named for neither removes nor adopts it."""
import numpy as np

from helpers import make_widget, pick, run_detect, small_stack


def test_an_opened_tracks_layer_named_as_a_links_survives_the_link(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="a")
    viewer.add_image(small_stack(2, 64)[:, ::-1].copy(), name="b")
    theirs = viewer.add_tracks(np.array([[0, 0, 10, 10], [0, 1, 11, 11]], float), name="a tracks")  # a_tracks.csv
    widget = make_widget(viewer, None)
    pick(widget, "a")
    run_detect(widget, qtbot)
    widget.tracks.link()
    qtbot.waitUntil(lambda: not widget.tracks.running(), timeout=60_000)
    assert theirs in viewer.layers  # not taken for the Link's own and replaced
    pick(widget, "b")
    assert theirs.visible  # nor hidden with 'a''s layers
