"""The docks' shared labels: a word-wrapped line of status or advice that is never drawn cut, one that may break a
path anywhere, a list whose long entries are shown elided, and the scroll area that holds a dock's panels."""

from __future__ import annotations

import html
import re

from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtGui import QPalette
from qtpy.QtWidgets import (
    QComboBox, QLabel, QLayout, QScrollArea, QStyle, QStyleOptionComboBox, QStylePainter, QVBoxLayout, QWidget,
)


def plain_tip(text: str) -> str:
    """``text`` as a tooltip shows it as it is: Qt reads a tip it guesses to be rich text as markup, and a layer or
    file named "x<b>y" showed as "x" and a bold "y". Only such a tip is escaped: any other stays as it was set."""
    if not Qt.mightBeRichText(text):
        return text
    return f'<p style="white-space:pre-wrap">{html.escape(text, quote=False)}</p>'


class WholeLabel(QLabel):
    """A word-wrapped line that is never shown cut: it keeps as its least height what its whole text needs at its
    width. Qt's layouts give a wrapped label no more than its one-width guess when a dock is crowded (three docks
    stacked), and its status was drawn cut through the middle of its words."""

    def __init__(self, text: str = "", hidden_when_empty: bool = False) -> None:
        super().__init__(text)
        # Plain unless a dock asks for rich text (and escapes what it shows): Qt's guess read a layer or file named
        # "a<b>.tif" as markup, and the name was drawn as "a" and a bold ".tif".
        self.setTextFormat(Qt.TextFormat.PlainText)
        # An empty label still takes its row and the layout's spacing around it: a blank band under the buttons.
        self._hidden_when_empty = hidden_when_empty
        self.setWordWrap(True)
        self._fit()
        if hidden_when_empty and not text:
            # A widget not yet shown reads as hidden, so _show_if_said left it be, and showing its panel showed it
            # empty: hidden explicitly it stays so (hide() opens no window, as setVisible(True) would).
            self.hide()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._fit()
        self._show_if_said()

    def _show_if_said(self) -> None:
        if self._hidden_when_empty and self.isHidden() == bool(self.text()):
            self.setVisible(bool(self.text()))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        needed = self._text_height()
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    def _text_height(self) -> int:
        """The height the text needs at the label's width, whatever least height the label keeps now."""
        if not self.text():
            return 0
        kept = self.minimumHeight()
        # QLabel's heightForWidth answers at least the minimum height: measured with it in place, a height kept
        # for a narrower width or a longer text never shrank, and the text stood centred in a blank band.
        self.setMinimumHeight(0)
        try:
            return max(self.heightForWidth(self.width()), 0)
        finally:
            self.setMinimumHeight(kept)


# Where a shown path may break: a folder's name holds no space, and the whole path unbroken widened the dock to its
# length. A zero-width space after each is invisible and gives the wrap a place.
PATH_BREAKS = re.compile(r"([/\\_.-])(?=\S)")
ZERO_WIDTH_SPACE = "\u200b"
# A path longer than this is shown with its middle cut ("…"; the label's tooltip holds it whole): wrapped whole, a
# deep folder took three lines and pushed the rounds table below a 1000 px window's edge.
SHOWN_PATH_CHARACTERS = 72
PATHS = re.compile(r"(?:[A-Za-z]:)?[/\\]\S+")
# A rich text's tags (the review line's "<b>reviewed ✓</b>"): left whole, or "</b>" broken showed as text.
TAGS = re.compile(r"(<[^<>]*>)")


def _shortened(path: re.Match) -> str:
    """A path of more than SHOWN_PATH_CHARACTERS with its middle cut: its start (where it lies) and its end (the
    folder's own name) kept."""
    whole = path.group(0)
    if len(whole) <= SHOWN_PATH_CHARACTERS:
        return whole
    start = SHOWN_PATH_CHARACTERS // 3
    return f"{whole[:start]}…{whole[len(whole) - (SHOWN_PATH_CHARACTERS - start - 1):]}"


def breakable(text: str) -> str:
    """``text`` with an invisible break after each separator of a path or name, outside any rich text's tags."""
    return "".join(part if TAGS.fullmatch(part) else PATH_BREAKS.sub(rf"\1{ZERO_WIDTH_SPACE}", part)
                   for part in TAGS.split(text))


class PathLabel(WholeLabel):
    """A WholeLabel whose text holds paths or file and layer names: shown, it may break after any separator of a
    path or name (outside a rich text's tags), so a deep folder or a long name keeps the dock its usual width, and a
    path longer than SHOWN_PATH_CHARACTERS is cut in its middle (whole in the tooltip); ``text()`` gives the text
    as set, without the invisible breaks or the cut."""

    _whole = ""  # read by WholeLabel's __init__, before this one's could set it

    def __init__(self, text: str = "", hidden_when_empty: bool = False) -> None:
        super().__init__("", hidden_when_empty)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._whole = text
        shown = PATHS.sub(_shortened, text)
        self.setToolTip(plain_tip(text) if shown != text else "")
        super().setText(breakable(shown))

    def text(self) -> str:
        return self._whole


class ElidedComboBox(QComboBox):
    """A list as wide as ``least_characters`` wants, not as its longest entry: the entry shown is elided in its
    middle (a path's start and its file's name stay), the popup and each item's tooltip keep it whole. Qt clips a
    too long entry at the edge without a mark, and the file's name was the part cut."""

    def __init__(self, least_characters: int) -> None:
        super().__init__()
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(least_characters)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        # The label is drawn a pixel in from each side of the edit field.
        room = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, self).width() - 2
        option.currentText = self.fontMetrics().elidedText(option.currentText, Qt.TextElideMode.ElideMiddle, room)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def initStyleOption(self, option) -> None:  # noqa: N802 (Qt's name)
        # Its placeholder drawn as QComboBox draws it: the painting above left it out, an empty field where a dock
        # asks for a choice.
        super().initStyleOption(option)
        if self.currentIndex() < 0 and self.placeholderText():
            option.palette.setBrush(QPalette.ColorRole.ButtonText, option.palette.placeholderText())
            option.currentText = self.placeholderText()


# A list of layer names' least width, in characters: napari names a layer after its file, and a 150-character name
# (common in microscopy exports) shown whole widened the dock past the window.
NAME_LIST_CHARACTERS = 24


class NameList(ElidedComboBox):
    """A dock's list of layers (or of a layer's views): the entry shown elided in its middle, whole in the list's
    tooltip (after ``about``, what the list is for) and in each entry's tooltip in the popup."""

    def __init__(self, about: str) -> None:
        super().__init__(NAME_LIST_CHARACTERS)
        self._about = about
        self.setToolTip(plain_tip(about))
        self.model().rowsInserted.connect(self._tip_rows)

    def whole_tip(self) -> str:
        """What the list is for, and the entry shown, whole."""
        return f"{self._about}: {self.currentText()}" if self.currentText() else self._about

    def _tip_rows(self, _parent, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self.setItemData(row, plain_tip(self.itemText(row)), Qt.ItemDataRole.ToolTipRole)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # the entry shown now: the lists are refilled with signals blocked
            self.setToolTip(plain_tip(self.whole_tip()))
        return super().event(event)


# A dock's least width: its panels' rows at Qt's default style.
DOCK_LEAST_WIDTH = 380


class DockScroll(QScrollArea):
    """A dock's ``column`` of panels in a vertical scroll filling ``host``, the host kept as wide as the column's rows.
    Without it a dock taller than a laptop's window (1024 x 700) squeezed its labels through their words and pushed
    the window past the screen's foot. The width is measured once shown, in napari's style (larger than Qt's
    default), and again when that style or the font changes: under Qt 6 a dock otherwise starts narrower than its
    rows and hides their ends behind a sideways scroll."""

    def __init__(self, host: QWidget, column: QLayout, least_width: int = DOCK_LEAST_WIDTH) -> None:
        super().__init__()
        # Before the widget is set: QScrollArea filters its widget's events through eventFilter from then on.
        self._host, self._least_width = host, least_width
        self.setWidgetResizable(True)
        inner = QWidget()
        inner.setLayout(column)
        self.setWidget(inner)
        outer = QVBoxLayout(host)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self)
        host.setMinimumWidth(least_width)
        # One refit for the burst of style changes a new napari style sheet sends, after they reach the panels.
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_width)
        host.installEventFilter(self)

    def fit_width(self) -> None:
        needed = (self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
                  + 2 * self.frameWidth())
        self._host.setMinimumWidth(max(self._least_width, needed))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host:
            if event.type() == QEvent.Type.Show:
                self.fit_width()
            elif event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange) and self._host.isVisible():
                # napari's font size (Preferences > Appearance) comes as a new style sheet: the rows grew wider than
                # the width fitted as the dock was shown, and a sideways scroll hid "Folder…", "Add…" and "Next ▶".
                self._fit_timer.start()
        return super().eventFilter(watched, event)
