"""Our notifications are plain text where they are not drawn (napari's record of notifications, the terminal) and
their popups draw them as written: escaped as rich text ("<qt>a&lt;b&gt;c"), the record and the terminal showed the
tags, and left to napari's guess the popup showed "a<b>c.tif" as "a" and a bold "c.tif"."""

from napari.utils.notifications import notification_manager
from qtpy.QtCore import Qt

NAME = "run<b>7 &lt;2> & co.tif"


def test_a_markup_like_name_is_plain_in_the_record_and_the_terminal_and_drawn_as_written(
        make_napari_viewer, qtbot, capsys):
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    from napari_particle_detect._napari.notify import report, show_info
    from napari_particle_detect.errors import ParticleDetectError

    make_napari_viewer(show=True)
    seen = len(notification_manager.records)
    report(ParticleDetectError(f"{NAME}: cannot read it"))
    show_info("5 rods & 2 chains found in 'img'")
    assert [n.message for n in notification_manager.records[seen:]] == [
        f"{NAME}: cannot read it", "5 rods & 2 chains found in 'img'"]
    assert f"ERROR: {NAME}: cannot read it" in capsys.readouterr().out  # napari's console line, as written
    popup = next(each for each in reversed(NapariQtNotification._instances)
                 if each.message.text() == f"{NAME}: cannot read it")
    assert popup.message.textFormat() == Qt.TextFormat.PlainText  # not Qt's guess: no bold "7 <2> & co.tif"
