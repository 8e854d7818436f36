"""napari's notification popup guesses its text's format: a message naming a file or layer "x<b>y.tif" showed "x" and
a bold "y.tif", and "&lt;" in a name as "<". The docks' messages are sent as they are written, as plain text (their
popups drawn as such: tests/test_s60_napari_popups_plain_text.py)."""

from helpers import notification_count, notifications_since

NAME = "run<b>7 &lt;2> & co.tif"


def test_an_error_naming_a_markup_like_file_shows_the_name_as_it_is(qapp):
    from napari_particle_detect._napari.notify import report, show_warnings
    from napari_particle_detect.errors import ParticleDetectError

    seen = notification_count()
    report(ParticleDetectError(f"{NAME}: cannot read it"))
    show_warnings([f"{NAME}: blank frame 3"])
    shown = notifications_since(seen)
    assert shown == [f"{NAME}: cannot read it", f"{NAME}: blank frame 3"], shown


def test_a_plain_message_is_dispatched_as_it_was(qapp):
    from napari_particle_detect._napari.notify import show_info

    seen = notification_count()
    show_info("5 rods & 2 chains found in 'img'")
    assert notifications_since(seen) == ["5 rods & 2 chains found in 'img'"]
