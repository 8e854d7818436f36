"""napari's notification popup guesses its text's format: a message naming a file or layer "x<b>y.tif" showed "x" and
a bold "y.tif", and "&lt;" in a name as "<". The docks' messages are shown as they are written."""

from qtpy.QtCore import Qt
from qtpy.QtGui import QTextDocument

from helpers import notification_count, notifications_since

NAME = "run<b>7 &lt;2> & co.tif"


def as_the_popup_shows(message: str) -> str:
    """The text napari's popup label draws for ``message`` (a QLabel with Qt's guessed format)."""
    document = QTextDocument()
    if Qt.mightBeRichText(message):
        document.setHtml(message)
    else:
        document.setPlainText(message)
    return document.toPlainText()


def test_an_error_naming_a_markup_like_file_shows_the_name_as_it_is(qapp):
    from napari_particle_detect._napari.notify import report, show_warnings
    from napari_particle_detect.errors import ParticleDetectError

    seen = notification_count()
    report(ParticleDetectError(f"{NAME}: cannot read it"))
    show_warnings([f"{NAME}: blank frame 3"])
    shown = [as_the_popup_shows(message) for message in notifications_since(seen)]
    assert shown == [f"{NAME}: cannot read it", f"{NAME}: blank frame 3"], shown


def test_a_plain_message_is_dispatched_as_it_was(qapp):
    from napari_particle_detect._napari.notify import show_info

    seen = notification_count()
    show_info("5 rods & 2 chains found in 'img'")
    assert notifications_since(seen) == ["5 rods & 2 chains found in 'img'"]
